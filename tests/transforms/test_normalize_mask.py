"""NormalizeMask(d): CBIS 0/255 masks, Kaggle JPEG noise, 0/1, 16-bit masks and empty masks to uint8 {0, 1}."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_cbis.transforms import NormalizeMask, NormalizeMaskd


@pytest.mark.parametrize(
    "values, dtype, expected",
    [
        ([0, 3, 126, 128, 250, 255], np.uint8, [0, 0, 0, 1, 1, 1]),  # 8-bit / JPEG noise: threshold 127.5
        ([0, 1, 1, 0, 1, 0], np.uint8, [0, 1, 1, 0, 1, 0]),  # already {0, 1}
        ([0.0, 0.2, 0.49, 0.51, 0.9, 1.0], np.float32, [0, 0, 0, 1, 1, 1]),  # probabilities: 0.5
        ([0, 100, 30000, 40000, 65535, 0], np.uint16, [0, 0, 0, 1, 1, 0]),  # 0/65535: max / 2
        ([0, 0, 0, 0, 0, 0], np.uint8, [0, 0, 0, 0, 0, 0]),  # empty stays empty
        ([0, 2, 3, 1, 0, 3], np.uint8, [0, 0, 0, 0, 0, 0]),  # JPEG speckle of an empty mask stays empty
    ],
)
def test_half_range_rule(as_type, np_of, values, dtype, expected):
    mask = np.array(values, dtype=dtype).reshape(1, 2, 3)
    out = NormalizeMask()(as_type(mask))
    assert isinstance(out, MetaTensor) and out.dtype == torch.uint8
    np.testing.assert_array_equal(np_of(out).ravel(), expected)


def test_explicit_threshold_and_metadata():
    mask = MetaTensor(torch.tensor([[[0, 10, 20, 30]]], dtype=torch.uint8), meta={"filename_or_obj": "m.dcm"})
    out = NormalizeMask(threshold=15)(mask)
    assert out.tolist() == [[[0, 0, 1, 1]]]
    assert out.meta["filename_or_obj"] == "m.dcm"


def test_channels_are_thresholded_independently():
    mask = np.zeros((2, 2, 2), np.uint8)
    mask[0, 0, 0] = 1  # a 0/1 channel
    mask[1, 1, 1] = 255  # a 0/255 channel
    out = NormalizeMask()(mask)
    assert out[0, 0, 0] == 1 and out[1, 1, 1] == 1 and int(out.sum()) == 2


def test_transposed_views_are_handled(np_of):
    mask = np.zeros((30, 20), np.uint8)
    mask[2:5, 7:9] = 255
    out = NormalizeMask()(mask.T[None])  # non-contiguous (W, H) view
    np.testing.assert_array_equal(np_of(out)[0], (mask.T > 0).astype(np.uint8))


def test_dictionary_twin_names_the_key_on_bad_shape():
    out = NormalizeMaskd(["mask"])({"mask": np.full((1, 3, 3), 255, np.uint8), "other": 5})
    assert int(out["mask"].sum()) == 9 and out["other"] == 5
    with pytest.raises(ValueError, match=r"NormalizeMaskd: key 'mask'.*shape \(4,\)"):
        NormalizeMaskd("mask")({"mask": np.zeros(4, np.uint8)})
    assert NormalizeMaskd("mask", allow_missing_keys=True)({}) == {}
