"""FlipToLeft(d): chest wall on the left for both lateralities, inferred when unknown; invertible."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose

from monai_cbis.transforms import FlipToLeft, FlipToLeftd


def _chest_wall_left(img) -> bool:
    a = np.asarray(img[0], dtype=np.float64)
    half = a.shape[0] // 2
    return a[:half].sum() > a[half:].sum()


@pytest.mark.parametrize("laterality", ["LEFT", "RIGHT", "L", "r", None, ""])
def test_both_sides_end_on_the_left(phantom, as_type, np_of, laterality):
    side = "RIGHT" if laterality and laterality.upper().startswith("R") else "LEFT"
    ph = phantom(laterality=side if laterality else "RIGHT")  # unknown side: a right breast, inferred
    flip = FlipToLeft()
    out = flip(as_type(ph.chw), laterality=laterality)
    assert isinstance(out, MetaTensor) and _chest_wall_left(np_of(out))
    back = flip.inverse(out)
    assert back.applied_operations == [] and tuple(back.shape) == ph.chw.shape
    np.testing.assert_array_equal(np_of(back), ph.chw)


def test_affine_follows_the_flip():
    img = MetaTensor(torch.zeros(1, 10, 6), affine=torch.diag(torch.tensor([0.1, 0.1, 1.0], dtype=torch.float64)))
    out = FlipToLeft("RIGHT")(img)
    np.testing.assert_allclose(out.affine[0].tolist(), [-0.1, 0.0, 0.9])  # x = 0 is the old right edge


def test_dictionary_decides_once_for_image_and_label(phantom):
    ph = phantom(laterality="RIGHT")
    item = {"image": ph.chw, "label": ph.mask_chw(), "laterality": "RIGHT"}
    t = Compose([FlipToLeftd(["image", "label"])])
    out = t(item)
    np.testing.assert_array_equal(out["label"].numpy(), ph.mask_chw()[:, ::-1])
    np.testing.assert_array_equal(out["image"].numpy(), ph.chw[:, ::-1])
    back = t.inverse(out)
    assert back["label"].applied_operations == [] and back["image"].applied_operations == []
    np.testing.assert_array_equal(back["label"].numpy(), ph.mask_chw())
    # no laterality key: inferred from the image, applied to the (content-free) label as well
    out = FlipToLeftd(["image", "label"])({"image": ph.chw, "label": ph.mask_chw()})
    assert out["label"].applied_operations[-1]["extra_info"]["flipped"] is True


def test_bad_values():
    with pytest.raises(ValueError, match=r"Unsupported laterality: 'UP', available options are"):
        FlipToLeft("UP")
    with pytest.raises(ValueError, match=r"FlipToLeftd: key 'laterality': Unsupported laterality: 'BOTH'"):
        FlipToLeftd("image")({"image": np.zeros((1, 4, 4)), "laterality": "BOTH"})
    with pytest.raises(ValueError, match=r"key 'image'.*inferring the laterality.*\(3, 4, 4\)"):
        FlipToLeftd("image")({"image": np.zeros((3, 4, 4))})
    assert FlipToLeft()(np.zeros((3, 4, 4)), laterality="LEFT").shape == (3, 4, 4)  # known side: any channels
