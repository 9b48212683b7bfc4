"""FastResize(d): anti-aliased resize, exact geometry, OpenCV agreement, MONAI-compatible inverse."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, Resize

from monai_cbis.transforms import FastResize, FastResized
from monai_cbis.transforms._utils import resample_2d


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


@pytest.mark.parametrize(
    "shape, size", [((3000, 1800), (224, 224)), ((1500, 900), (100, 160)), ((640, 400), (224, 224))]
)
def test_matches_opencv_area_on_smooth_images(shape, size):
    img = _smooth(shape)
    ours = resample_2d(img, size)
    ref = cv2.resize(img, size[::-1], interpolation=cv2.INTER_AREA).astype(np.float32)
    assert np.abs(ours - ref).mean() < 0.5  # DN, on a 0..4000 scale


def test_geometry_is_exact_with_ragged_blocks():
    """A bright column block keeps its position and mass: output j covers [j n/m, (j+1) n/m)."""
    img = np.zeros((2999, 1999), np.uint16)
    img[1000:1300, 500:700] = 1000
    out = resample_2d(img, (224, 224))
    scale = (2999 / 224) * (1999 / 224)
    np.testing.assert_allclose(out.sum() * scale, img.astype(np.float64).sum(), rtol=1e-3)
    rows = np.nonzero(out.sum(1))[0]
    assert abs(rows[0] - 1000 * 224 / 2999) < 1.0 and abs(rows[-1] + 1 - 1300 * 224 / 2999) < 1.0


def test_binary_masks_keep_their_area():
    mask = np.zeros((1, 3000, 2000), np.uint8)
    mask[0, 1000:1400, 600:900] = 1  # {0, 1}: block means would round to 0/1 without the spreading
    out = FastResize(224)(mask).numpy()
    np.testing.assert_allclose(out.sum() * (3000 / 224) * (2000 / 224), 400 * 300, rtol=2e-3)


def test_enlarging_and_mixed_directions_are_bilinear():
    img = np.random.default_rng(0).random((40, 30)).astype(np.float32)
    np.testing.assert_allclose(
        resample_2d(img, (80, 90)), cv2.resize(img, (90, 80), interpolation=cv2.INTER_LINEAR), atol=1e-4
    )
    mixed = resample_2d(img, (20, 60))  # shrink x, enlarge y
    ref = cv2.resize(cv2.resize(img, (30, 20), interpolation=cv2.INTER_AREA), (60, 20), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(mixed, ref, atol=1e-4)


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
