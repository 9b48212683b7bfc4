"""FastResize(d): anti-aliased resize of MetaTensors, masks keep their area, MONAI-compatible affine and inverse (the
resampling kernel itself is tested in test_resample.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, Resize

from monai_cbis.transforms import FastResize, FastResized


def _smooth(shape, seed=0):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur((rng.random(shape) * 4000).astype(np.float32), (0, 0), 25).astype(np.uint16)


def test_output_types_shape_and_inverse(as_type, np_of):
    img = _smooth((300, 500))[None]
    resize = FastResize((64, 48))
    out = resize(as_type(img))
    assert isinstance(out, MetaTensor) and out.dtype == torch.float32 and tuple(out.shape) == (1, 64, 48)
    back = resize.inverse(out)
    assert back.applied_operations == [] and tuple(back.shape) == (1, 300, 500)
    assert np.abs(np_of(back) - img).mean() < 0.1 * img.std()  # smooth image: the round trip is close


def test_binary_masks_keep_their_area():
    mask = np.zeros((1, 3000, 2000), np.uint8)
    mask[0, 1000:1400, 600:900] = 1  # {0, 1}: block means would round to 0/1 without the spreading
    out = FastResize(224)(mask).numpy()
    np.testing.assert_allclose(out.sum() * (3000 / 224) * (2000 / 224), 400 * 300, rtol=2e-3)


def test_affine_matches_monai_resize():
    img = MetaTensor(torch.rand(1, 300, 200), affine=torch.diag(torch.tensor([0.05, 0.05, 1.0], dtype=torch.float64)))
    ours = FastResize((60, 40))(img)
    monai = Resize((60, 40), mode="area")(img)
    np.testing.assert_allclose(ours.affine.numpy(), monai.affine.numpy())
    np.testing.assert_allclose(ours.numpy(), monai.numpy(), atol=1e-5)  # integer factor: identical averages


def test_dictionary_modes_per_key():
    item = {"image": _smooth((120, 80))[None], "label": np.zeros((1, 120, 80), np.uint8)}
    item["label"][0, 30:60, 20:40] = 1
    t = Compose([FastResized(["image", "label"], 32, inverse_mode=("bilinear", "nearest"))])
    out = t(item)
    out["label"] = (out["label"] > 0.5).float()
    back = t.inverse(out)
    assert back["label"].applied_operations == [] and tuple(back["label"].shape) == (1, 120, 80)
    assert set(np.unique(back["label"].numpy())) <= {0.0, 1.0}  # nearest: still binary


def test_bad_arguments():
    with pytest.raises(ValueError, match="spatial_size must be positive"):
        FastResize(0)
    with pytest.raises(ValueError, match=r"Unsupported inverse_mode: 'cubic'"):
        FastResize(8, inverse_mode="cubic")
    with pytest.raises(ValueError, match=r"FastResized: key 'image'.*\(C, W, H\), got shape \(4, 4\)"):
        FastResized("image", 2)({"image": np.zeros((4, 4))})


def test_downsample_divides_every_side_and_inverts():
    img = MetaTensor(torch.rand(1, 301, 200))
    resize = FastResize(4, size_mode="downsample")
    out = resize(img)
    assert tuple(out.shape) == (1, 75, 50)  # round(301 / 4), 200 / 4: aspect kept
    assert tuple(resize.inverse(out).shape) == (1, 301, 200)
    assert torch.equal(FastResize(1, size_mode="downsample")(img).as_tensor(), img.as_tensor())  # 1 keeps the pixels
    with pytest.raises(ValueError, match=r"size_mode='downsample' takes one int \(the factor\)"):
        FastResize((2, 2), size_mode="downsample")
    with pytest.raises(ValueError, match=r"available options are \['all', 'longest', 'downsample'\]"):
        FastResize(2, size_mode="half")
