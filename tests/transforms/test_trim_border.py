"""TrimBorder(d): remove a fraction of each edge; invertible back to the original grid."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose

from monai_cbis.transforms import TrimBorder, TrimBorderd


def test_cut_and_inverse(as_type, np_of):
    img = np.arange(100 * 60, dtype=np.float32).reshape(1, 100, 60)
    trim = TrimBorder(0.1)
    out = trim(as_type(img))
    assert isinstance(out, MetaTensor) and tuple(out.shape) == (1, 80, 48)
    np.testing.assert_array_equal(np_of(out), img[:, 10:90, 6:54])
    back = trim.inverse(out)
    assert back.applied_operations == [] and tuple(back.shape) == (1, 100, 60)
    np.testing.assert_array_equal(np_of(back)[:, 10:90, 6:54], img[:, 10:90, 6:54])
    assert float(np_of(back)[:, :10].sum()) == 0.0  # the trimmed border comes back as zeros


def test_per_axis_fraction_and_affine():
    img = MetaTensor(torch.zeros(1, 200, 100), affine=torch.diag(torch.tensor([0.05, 0.05, 1.0], dtype=torch.float64)))
    out = TrimBorder((0.05, 0.0))(img)
    assert tuple(out.shape) == (1, 180, 100)
    np.testing.assert_allclose(out.affine[0, 2].item(), 10 * 0.05)  # the crop origin moved 10 pixels in x


def test_dictionary_twin_on_image_and_label():
    item = {"image": np.ones((1, 50, 40), np.float32), "label": np.ones((1, 50, 40), np.uint8)}
    t = Compose([TrimBorderd(["image", "label"], 0.02)])
    out = t(item)
    assert tuple(out["image"].shape) == tuple(out["label"].shape) == (1, 48, 38)
    back = t.inverse(out)
    for key in ("image", "label"):
        assert back[key].applied_operations == [] and tuple(back[key].shape) == (1, 50, 40)


def test_zero_fraction_is_identity_and_bad_fractions():
    img = np.random.default_rng(0).random((1, 10, 10)).astype(np.float32)
    np.testing.assert_array_equal(TrimBorder(0.0)(img).numpy(), img)
    for bad in (0.5, -0.1, (0.1, 0.6)):
        with pytest.raises(ValueError, match=r"fraction must be in \[0, 0.5\)"):
            TrimBorder(bad)
