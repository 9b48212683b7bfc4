"""The mask threshold rule is written once (masks.mask_threshold) and every transform that reads a lesion mask
applies it alike: NormalizeMask, MergeMasks, CropByROI and MaskToBox find the same lesion pixels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from monai_cbis.transforms import CropByROI, MaskToBox, MergeMasks, NormalizeMask
from monai_cbis.transforms.masks import binarize, half_range_threshold, mask_threshold


@pytest.mark.parametrize(
    "low, high, dtype",
    [(0, 255, np.uint8), (3, 250, np.uint8), (0, 1, np.uint8), (0.2, 0.8, np.float32), (0, 65535, np.uint16)],
)
@pytest.mark.parametrize("threshold", [None, 0.5])
def test_every_mask_reader_uses_the_same_rule(low, high, dtype, threshold):
    mask = np.full((1, 30, 20), low, dtype)
    mask[0, 5:12, 3:9] = high  # the lesion
    mask[0, 20, 15] = (low + high) / 2 if np.issubdtype(dtype, np.floating) else (int(low) + int(high)) // 2
    want = mask[0] > mask_threshold(mask[0], threshold)
    np.testing.assert_array_equal(binarize(mask[0], threshold), want)
    np.testing.assert_array_equal(NormalizeMask(threshold)(mask).numpy()[0], want)
    np.testing.assert_array_equal(MergeMasks(threshold)(mask).numpy()[0], want)
    labels, n = ndimage.label(want, structure=np.ones((3, 3)))
    sizes = ndimage.sum(want, labels, range(1, n + 1))
    x, y = ndimage.find_objects((labels == 1 + int(np.argmax(sizes))).astype(np.int32))[0]
    largest = [x.start, y.start, x.stop, y.stop]
    boxes, _ = MaskToBox(threshold=threshold)(mask)
    start, end = CropByROI(threshold=threshold).compute_box(mask)
    assert len(boxes) == n and largest in boxes.astype(int).tolist()
    assert [*start.tolist(), *end.tolist()] == largest


def test_half_range_threshold_values():
    assert [half_range_threshold(m) for m in (0, 1, 2, 255, 4095)] == [0.5, 0.5, 127.5, 127.5, 2047.5]
    assert mask_threshold(np.zeros((2, 2), np.uint8)) == 0.5  # an empty mask stays empty
