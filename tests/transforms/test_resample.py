"""resample_2d: the anti-aliased kernel of FastResize; exact geometry, OpenCV agreement, proxy shapes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from monai_cbis.transforms.resample import proxy_shape, resample_2d


def _smooth(shape, seed=0):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur((rng.random(shape) * 4000).astype(np.float32), (0, 0), 25).astype(np.uint16)


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


def test_enlarging_and_mixed_directions_are_bilinear():
    img = np.random.default_rng(0).random((40, 30)).astype(np.float32)
    np.testing.assert_allclose(
        resample_2d(img, (80, 90)), cv2.resize(img, (90, 80), interpolation=cv2.INTER_LINEAR), atol=1e-4
    )
    mixed = resample_2d(img, (20, 60))  # shrink x, enlarge y
    ref = cv2.resize(cv2.resize(img, (30, 20), interpolation=cv2.INTER_AREA), (60, 20), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(mixed, ref, atol=1e-4)


def test_transposed_views_and_odd_dtypes_give_the_same_result():
    img = _smooth((300, 200))
    direct = resample_2d(np.ascontiguousarray(img), (40, 30))
    np.testing.assert_allclose(resample_2d(np.asfortranarray(img), (40, 30)), direct)  # the reader's (W, H) views
    np.testing.assert_allclose(resample_2d(img.astype(np.int32), (40, 30)), direct)  # MONAI's int32 of uint16


def test_proxy_shape_and_bad_shapes():
    assert proxy_shape((3000, 5000), 512) == (300, 500) and proxy_shape((10, 20), 512) == (10, 20)
    with pytest.raises(ValueError, match=r"cannot resize an array of shape \(4, 4\) to \(0, 2\)"):
        resample_2d(np.zeros((4, 4), np.float32), (0, 2))
