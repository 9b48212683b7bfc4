"""MedianFilter(d): OpenCV fast path equals SciPy / scikit-image's median with a square window; 3-D images are
filtered in 3-D (as MONAI's MedianSmooth); the old ``backend=`` keyword still works, with a DeprecationWarning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import MedianSmooth
from monai.utils import convert_to_tensor
from scipy import ndimage

from monai_cbis.transforms import MedianFilter, MedianFilterd


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.int16, np.float64])
@pytest.mark.parametrize("radius", [1, 2, 3])
def test_equals_scipy_nearest(dtype, radius, np_of):
    img = (np.random.default_rng(radius).random((1, 40, 30)) * 200).astype(dtype)
    out = np_of(MedianFilter(radius)(img))
    expected = ndimage.median_filter(img[0], size=2 * radius + 1, mode="nearest")
    np.testing.assert_array_equal(out[0], expected)
    assert out.dtype == convert_to_tensor(img).numpy().dtype  # the input's dtype as MONAI holds it (uint16 -> int32)


def test_types_and_metadata(as_type, np_of):
    img = np.zeros((1, 9, 9), np.float32)
    img[0, 4, 4] = 1.0  # salt
    out = MedianFilter(1)(as_type(img))
    assert isinstance(out, MetaTensor) and float(np_of(out).max()) == 0.0


def test_matches_monai_median_smooth_inside_the_image():
    img = np.random.default_rng(0).random((1, 32, 32)).astype(np.float32)
    ours = MedianFilter(1)(img).numpy()[0, 1:-1, 1:-1]
    monai = MedianSmooth(1)(torch.as_tensor(img)).numpy()[0, 1:-1, 1:-1]
    np.testing.assert_allclose(ours, monai)


def test_channels_library_and_radius_zero(np_of):
    img = np.random.default_rng(1).random((2, 16, 12)).astype(np.float32)
    fast = np_of(MedianFilterd("image", radius=1)({"image": img})["image"])
    slow = np_of(MedianFilterd("image", radius=1, library="scipy")({"image": img})["image"])
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(np_of(MedianFilter(0)(img)), img)


def test_bad_arguments_and_shapes():
    with pytest.raises(ValueError, match="radius must be >= 0"):
        MedianFilter(-1)
    with pytest.raises(ValueError, match=r"Unsupported library: 'gpu', available options are \['opencv', 'scipy'\]"):
        MedianFilter(1, library="gpu")
    with pytest.raises(ValueError, match=r"MedianFilterd: key 'image'.*shape \(5,\)"):
        MedianFilterd("image")({"image": np.zeros(5, np.float32)})


def test_3d_image_is_filtered_over_all_spatial_axes():
    """Not slice by slice: a plate one voxel thick is noise in 3-D (9 of 27 voxels), though each 2-D slice's
    median would keep its centre (9 of 9 pixels)."""
    img = np.zeros((2, 7, 7, 7), np.float32)
    img[:, 3, 2:5, 2:5] = 1.0
    out = MedianFilter(1)(img).numpy()
    assert out.shape == img.shape and float(out.max()) == 0.0
    vol = np.random.default_rng(2).random((1, 12, 10, 8)).astype(np.float32)
    ours = MedianFilter(1)(vol).numpy()
    np.testing.assert_array_equal(ours[0], ndimage.median_filter(vol[0], size=3, mode="nearest"))
    monai = MedianSmooth(1)(torch.as_tensor(vol)).numpy()
    np.testing.assert_allclose(ours[0, 1:-1, 1:-1, 1:-1], monai[0, 1:-1, 1:-1, 1:-1])
    dict_out = MedianFilterd("image", radius=1, library="scipy")({"image": vol})["image"]
    np.testing.assert_array_equal(dict_out.numpy(), ours)


def test_deprecated_backend_keyword_still_chooses_the_library(np_of):
    img = np.random.default_rng(3).random((1, 16, 12)).astype(np.float32)
    with pytest.warns(DeprecationWarning, match=r"MedianFilter\(backend=...\) is deprecated, use library='scipy'"):
        old = MedianFilter(1, backend="scipy")
    assert old.library == "scipy" and MedianFilter.backend == MedianFilter(1).backend
    np.testing.assert_array_equal(np_of(old(img)), np_of(MedianFilter(1, library="scipy")(img)))
    with pytest.warns(DeprecationWarning, match=r"MedianFilterd\(backend=...\)"):
        assert MedianFilterd("image", backend="scipy").filter.library == "scipy"
