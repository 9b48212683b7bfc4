"""CLAHE(d): OpenCV fast path, scikit-image path, same result whatever the input type, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_cbis.transforms import CLAHE, CLAHEd


def _picture(shape=(256, 256), seed=0) -> np.ndarray:
    """A smooth low-contrast picture in [0, 1] (CLAHE has something to enhance)."""
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.random(shape).astype(np.float32), (0, 0), 6)
    return (base - base.min()) / (base.max() - base.min())


def test_output_range_and_types(as_type, np_of):
    img = (_picture() * 4095).astype(np.uint16)[None]
    out = CLAHE()(as_type(img))
    assert isinstance(out, MetaTensor) and out.dtype == torch.float32 and tuple(out.shape) == (1, 256, 256)
    a = np_of(out)
    assert 0.0 <= a.min() and a.max() <= 1.0 and a.max() - a.min() > 0.9


def test_enhances_contrast():
    pic = _picture()
    low = (0.4 + 0.1 * pic)[None].astype(np.float32)  # squeezed into a tenth of the range
    out = CLAHE(clip_limit=2.0)(low).numpy()
    assert out.std() > 1.2 * pic.std()  # more spread than a plain min-max stretch of the same picture
    local = np.abs(np.diff(out[0], axis=0)).mean()
    assert local > 1.2 * np.abs(np.diff(pic, axis=0)).mean()  # and more local contrast


@pytest.mark.parametrize(
    "convert", [lambda a: a.astype(np.uint16) * 257, lambda a: a.astype(np.uint16) * 16, lambda a: a / 255.0]
)
def test_same_picture_same_result_whatever_the_type(convert):
    picture8 = (_picture() * 255).astype(np.uint8)[None]
    reference = CLAHE()(picture8).numpy()
    np.testing.assert_allclose(CLAHE()(convert(picture8)).numpy(), reference, atol=1e-6)


@pytest.mark.parametrize("scale, dtype", [(255, np.uint8), (65535, np.uint16), (1.0, np.float32)])
def test_close_result_at_other_bit_depths(scale, dtype):
    pic = _picture()
    reference = CLAHE()((pic * 4095).astype(np.uint16)[None]).numpy()
    out = CLAHE()((pic * scale).astype(dtype)[None]).numpy()
    assert np.abs(out - reference).mean() < 0.01


def test_matches_scikit_image_fallback():
    img = (_picture() * 4095).astype(np.uint16)[None]
    fast = CLAHE(clip_limit=2.0, tile_grid_size=8)(img).numpy()
    slow = CLAHE(clip_limit=2.0, tile_grid_size=8, library="skimage")(img).numpy()
    assert slow.dtype == np.float32 and slow.min() >= 0 and slow.max() <= 1
    assert np.abs(fast - slow).mean() < 0.04


def test_more_bins_use_the_16_bit_path_without_flattening():
    img = (_picture() * 4095).astype(np.uint16)[None]
    out8 = CLAHE(nbins=256)(img).numpy()
    out12 = CLAHE(nbins=4096)(img).numpy()
    slow12 = CLAHE(nbins=4096, library="skimage")(img).numpy()
    assert np.abs(out12 - slow12).mean() < 0.04  # an nbins-level CLAHE, as scikit-image computes it
    assert np.abs(out8 - out12).mean() < 0.05  # the same equalisation, finer levels
    assert len(np.unique(out12)) > len(np.unique(out8))


def test_tile_grid_follows_spatial_axes():
    """(tiles along x, tiles along y): transposing the image and the grid transposes the result."""
    pic = (_picture((128, 320)) * 4095).astype(np.uint16)
    a = CLAHE(tile_grid_size=(2, 8))(pic[None]).numpy()[0]
    b = CLAHE(tile_grid_size=(8, 2))(np.ascontiguousarray(pic.T)[None]).numpy()[0]
    np.testing.assert_allclose(a, b.T, atol=1.01 / 255)  # OpenCV rounds a few interpolations differently
    assert np.abs(a - b.T).mean() < 1e-3


@pytest.mark.parametrize("lo, hi", [(0, 4095), (300, 811)])  # 255 / 511 never lands on a half level: no ties
def test_value_range_fixes_the_mapping(lo, hi):
    """``(lo, hi)`` -> 256 levels ``rint(255 (x - lo) / (hi - lo))``, values outside clipped, then OpenCV's CLAHE;
    not the image's own range (0..1000 here, so 300..811 clips about 5 % of the pixels at each end)."""
    pic = (_picture() * 1000).astype(np.uint16)[None]
    out = CLAHE(clip_limit=2.0, tile_grid_size=8, value_range=(lo, hi))(pic).numpy()[0]
    levels = np.rint(255.0 * np.clip((pic[0].astype(np.float64) - lo) / (hi - lo), 0, 1)).astype(np.uint8)
    expected = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(levels.T).T / 255.0  # (x, y) arrays
    np.testing.assert_allclose(out, expected, atol=1e-6)
    own = CLAHE(clip_limit=2.0, tile_grid_size=8)(pic).numpy()[0]
    assert np.abs(out - own).mean() > 0.01  # the fixed range changed the result


def test_all_zero_image_gives_zeros():
    out = CLAHEd("image")({"image": np.zeros((1, 32, 32), np.uint16)})["image"]
    assert out.dtype == torch.float32 and float(out.abs().max()) == 0.0
    assert float(CLAHE()(np.full((1, 8, 8), 7.0, np.float32)).abs().max()) == 0.0  # any constant image


def test_three_channels_raise_with_key_and_shape():
    with pytest.raises(ValueError, match=r"CLAHEd: key 'image': CLAHE expects a single-channel .* \(3, 16, 16\)"):
        CLAHEd("image")({"image": np.zeros((3, 16, 16), np.uint8)})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"clip_limit": 0}, "clip_limit must be > 0"),
        ({"tile_grid_size": 0}, "tile_grid_size must be >= 1"),
        ({"nbins": 1}, "nbins must be between 2 and 65536"),
        ({"library": "cuda"}, r"Unsupported library: 'cuda', available options are \['opencv', 'skimage'\]"),
        ({"value_range": (5, 5)}, "value_range must be"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CLAHE(**kwargs)


def test_deprecated_backend_keyword_still_chooses_the_library():
    img = (_picture((64, 64)) * 4095).astype(np.uint16)[None]
    with pytest.warns(DeprecationWarning, match=r"CLAHE\(backend=...\) is deprecated, use library='skimage'"):
        old = CLAHE(backend="skimage")
    assert old.library == "skimage" and CLAHE.backend == CLAHE().backend  # MONAI's class attribute is untouched
    np.testing.assert_array_equal(old(img).numpy(), CLAHE(library="skimage")(img).numpy())
    with pytest.warns(DeprecationWarning, match=r"CLAHEd\(backend=...\)"):
        assert CLAHEd("image", backend="skimage").clahe.library == "skimage"
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=r"Unsupported library: 'cuda'"):
        CLAHE(backend="cuda")
