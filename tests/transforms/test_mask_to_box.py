"""MaskToBox(d): one box per connected lesion in MONAI detection conventions, with labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.apps.detection.transforms.dictionary import BoxToMaskd, ClipBoxToImaged
from monai.data.box_utils import convert_box_mode

from monai_cbis.transforms import MaskToBox, MaskToBoxd


def _mask():
    m = np.zeros((1, 40, 30), np.uint8)
    m[0, 2:6, 3:9] = 255
    m[0, 20:30, 10:12] = 255
    m[0, 39, 29] = 255  # a one-pixel lesion in the corner, at the image edge
    return m


def test_boxes_labels_and_types(as_type):
    boxes, labels = MaskToBox()(as_type(_mask()))
    expected = [[2, 3, 6, 9], [20, 10, 30, 12], [39, 29, 40, 30]]  # x_min, y_min, x_max, y_max (max exclusive)
    assert boxes.tolist() == expected and labels.tolist() == [1, 1, 1]
    assert boxes.dtype in (np.float32, torch.float32) and labels.dtype in (np.int64, torch.int64)
    assert isinstance(boxes, np.ndarray) == isinstance(as_type(_mask()), np.ndarray)


def test_channels_get_their_own_class_and_min_area():
    stack = np.concatenate([_mask(), np.zeros((1, 40, 30), np.uint8)])
    stack[1, 4:7, 5:8] = 255  # touches the first lesion of channel 0 but stays a separate box
    boxes, labels = MaskToBox(labels=[0, 1], min_area=2)(stack)
    assert boxes.tolist() == [[2, 3, 6, 9], [20, 10, 30, 12], [4, 5, 7, 8]] and labels.tolist() == [0, 0, 1]


def test_empty_mask_gives_no_boxes():
    boxes, labels = MaskToBox()(np.zeros((1, 10, 10), np.uint8))
    assert boxes.shape == (0, 4) and labels.shape == (0,)
    out = MaskToBoxd("mask")({"mask": torch.zeros(1, 10, 10, dtype=torch.uint8), "image": torch.zeros(1, 10, 10)})
    assert tuple(out["box"].shape) == (0, 4) and tuple(out["box_label"].shape) == (0,)


def test_dictionary_with_classes_feeds_monai_detection():
    item = {"image": np.zeros((1, 40, 30), np.float32), "mask": _mask(), "pathologies": ["MALIGNANT"]}
    t = MaskToBoxd("mask", class_key="pathologies", class_map={"MALIGNANT": 1, "BENIGN": 0})
    out = t(item)
    assert out["box_label"].tolist() == [1, 1, 1]
    out = ClipBoxToImaged(box_keys="box", label_keys="box_label", box_ref_image_keys="image")(out)
    assert out["box"].shape == (3, 4)
    to_mask = BoxToMaskd(
        box_keys="box", box_mask_keys="box_mask", label_keys="box_label", box_ref_image_keys="image", min_fg_label=0
    )
    masks = to_mask(out)
    painted = (masks["box_mask"] >= 0).any(0)
    assert painted[_mask()[0] > 0].all()  # every lesion pixel is inside its box
    ccwh = convert_box_mode(out["box"], src_mode="xyxy", dst_mode="ccwh")
    assert ccwh[0].tolist() == [4.0, 6.0, 4.0, 6.0]


def test_bad_input_names_keys():
    with pytest.raises(ValueError, match=r"mask 'mask' has spatial shape \(40, 30\) but image 'image' has \(40, 31\)"):
        MaskToBoxd("mask")({"mask": _mask(), "image": np.zeros((1, 40, 31))})
    with pytest.raises(KeyError, match=r"class 'ODD' from key 'pathology' is not in class_map"):
        MaskToBoxd("mask", class_key="pathology", image_key=None)({"mask": _mask(), "pathology": "ODD"})
    with pytest.raises(ValueError, match=r"key 'mask': got 2 labels \[1, 0\] for a mask with 1 channels"):
        MaskToBoxd("mask", class_key="c")({"mask": _mask(), "c": [1, 0]})
    with pytest.raises(ValueError, match="connectivity must be 4 or 8"):
        MaskToBox(connectivity=6)
