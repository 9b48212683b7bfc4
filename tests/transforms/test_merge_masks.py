"""MergeMasks(d): an image's several lesion masks (N, W, H) -> one {0, 1} label (1, W, H), and LesionIndexMap: the
same masks -> one map of which lesion each pixel belongs to."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_cbis.transforms import LesionIndexMap, LoadMammogramd, MergeMasks, MergeMasksd


def test_union_of_channels(as_type, np_of):
    stack = np.zeros((3, 6, 5), np.uint8)
    stack[0, 0:2, 0:2] = 255
    stack[1, 1:4, 1:3] = 255  # overlaps the first
    # channel 2 is empty
    out = MergeMasks()(as_type(stack))
    assert isinstance(out, MetaTensor) and out.dtype == torch.uint8 and tuple(out.shape) == (1, 6, 5)
    np.testing.assert_array_equal(np_of(out)[0], (stack.max(0) > 127).astype(np.uint8))


def test_mixed_scales_merge_correctly():
    stack = np.zeros((2, 4, 4), np.uint8)
    stack[0, 0, 0] = 1  # written 0/1
    stack[1, 3, 3] = 255  # written 0/255: a global threshold would drop the 0/1 lesion
    out = MergeMasks()(stack)
    assert out[0, 0, 0] == 1 and out[0, 3, 3] == 1 and int(out.sum()) == 2


def test_float_coverage_after_resize():
    stack = np.array([[[0.0, 100.0, 200.0, 255.0]]], dtype=np.float32)  # resized 0/255 masks: coverage x 255
    assert MergeMasks()(stack).tolist() == [[[0, 0, 1, 1]]]


def test_merges_loaded_mask_files(tmp_path, write_dicom):
    m1 = np.zeros((20, 10), np.uint8)
    m1[2:5, 2:5] = 255
    m2 = np.zeros((20, 10), np.uint8)
    m2[10:15, 5:9] = 255
    paths = [write_dicom(tmp_path / "1.dcm", m1), write_dicom(tmp_path / "2.dcm", m2)]
    out = MergeMasksd("label")(LoadMammogramd("label")({"label": paths}))
    assert tuple(out["label"].shape) == (1, 10, 20)
    np.testing.assert_array_equal(out["label"][0].numpy(), ((m1 | m2) > 0).T.astype(np.uint8))
    assert out["label"].meta["filename_or_obj"] == paths[0]


def test_one_mask_and_bad_shapes():
    one = np.full((1, 3, 3), 255, np.uint8)
    assert int(MergeMasks()(one).sum()) == 9
    with pytest.raises(ValueError, match=r"MergeMasksd: key 'label'.*\(N, W, H\), got shape \(3, 3\)"):
        MergeMasksd("label")({"label": np.zeros((3, 3), np.uint8)})


def test_index_map_keeps_touching_lesions_apart_and_overlaps_go_to_the_smaller(as_type, np_of):
    stack = np.zeros((3, 6, 8), np.uint8)
    stack[0, 1:4, 0:4] = 255  # 12 px
    stack[1, 1:4, 4:8] = 255  # touches the first: one component of the union
    stack[2, 2:3, 2:6] = 255  # 4 px inside both: the smallest, it keeps its pixels
    out = LesionIndexMap()(as_type(stack))
    assert isinstance(out, MetaTensor) and out.dtype == torch.uint8 and tuple(out.shape) == (1, 6, 8)
    idx = np_of(out)[0]
    np.testing.assert_array_equal(idx > 0, np_of(MergeMasks()(as_type(stack)))[0] > 0)  # the same union
    assert set(np.unique(idx).tolist()) == {0, 1, 2, 3}
    assert (idx[2, 2:6] == 3).all() and idx[1, 0] == 1 and idx[1, 7] == 2


def test_merge_masks_d_writes_the_index_map_beside_the_label(tmp_path, write_dicom):
    m1 = np.zeros((20, 10), np.uint8)
    m1[2:6, 2:5] = 255
    m2 = np.zeros((20, 10), np.uint8)
    m2[6:9, 2:5] = 255  # touches m1
    paths = [write_dicom(tmp_path / "1.dcm", m1), write_dicom(tmp_path / "2.dcm", m2)]
    out = MergeMasksd("label", index_keys="label_index")(LoadMammogramd("label")({"label": paths}))
    idx = out["label_index"]
    assert tuple(idx.shape) == (1, 10, 20) and idx.meta["filename_or_obj"] == paths[0]
    np.testing.assert_array_equal(idx[0].numpy(), (m1 > 0).T * 1 + (m2 > 0).T * 2)
    assert "label_index" not in MergeMasksd("label")(LoadMammogramd("label")({"label": paths}))
