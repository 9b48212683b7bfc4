"""GateByBreast(d) and the box variant: findings outside the breast region (the box CropBreast finds) are removed and
counted; findings inside are untouched; the region is CropBreast's own."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_cbis.transforms import CropBreast
from monai_cbis.transforms.breast_gate import (
    GateBoxesByBreastd,
    GateByBreast,
    GateByBreastd,
    boxes_in_breast,
    breast_box,
)


def _film() -> np.ndarray:
    """(1, W=120, H=100): a half-ellipse breast along x = 0 and a bright scanner label far from it."""
    x, y = np.meshgrid(np.arange(120), np.arange(100), indexing="ij")
    img = np.full((1, 120, 100), 0.04, np.float32)
    img[0][(x / 60.0) ** 2 + ((y - 50) / 45.0) ** 2 <= 1.0] = 0.5
    img[0, 95:110, 5:15] = 0.9  # the label, in the background
    return img


def _pred() -> np.ndarray:
    p = np.zeros((1, 120, 100), np.float32)
    p[0, 20:30, 40:50] = 0.9  # inside the breast
    p[0, 96:109, 6:14] = 0.8  # over the label: wholly outside
    p[0, 55:70, 48:52] = 0.7  # across the breast box's far edge (x = 60): clipped
    return p


def test_the_region_is_crop_breasts_box():
    img = _film()
    start, end = breast_box(img)
    want = CropBreast().compute_box(img)
    assert start.tolist() == want[0].tolist() and end.tolist() == want[1].tolist()
    assert end[0] <= 62 and start[0] == 0  # the label is not part of it


@pytest.mark.parametrize("kind", ["numpy", "tensor", "meta"])
def test_removes_and_counts_what_lies_outside_and_keeps_the_rest(kind):
    img, pred = _film(), _pred()
    start, end = breast_box(img)
    wrap = {"numpy": lambda a: a, "tensor": torch.as_tensor, "meta": lambda a: MetaTensor(a, meta={"k": 1})}[kind]
    out = GateByBreastd(keys=["pred", "prob"])({"image": wrap(img), "pred": wrap(pred), "prob": wrap(pred * 0.5)})
    assert type(out["pred"]) is type(wrap(pred))
    if kind == "meta":
        assert out["pred"].meta["k"] == 1
    got = np.asarray(out["pred"])
    inside = np.zeros(pred.shape[1:], bool)
    inside[start[0] : end[0], start[1] : end[1]] = True
    assert np.array_equal(got[0][inside], pred[0][inside]) and not got[0][~inside].any()
    assert got[0, 20:30, 40:50].min() == pytest.approx(0.9)  # the lesion inside is untouched
    removed = int(((pred[0] >= 0.5) & ~inside).sum())
    assert out["breast_gate"] == {"removed_pixels": removed, "removed_components": 1}
    assert removed == 13 * 8 + (70 - end[0]) * 4  # the label blob whole, the straddling one beyond x = end
    assert not np.asarray(out["prob"])[0][~inside].any()  # every key gated by the same region


def test_disabled_passes_through_and_records_nothing():
    d = {"image": _film(), "pred": _pred()}
    out = GateByBreastd(keys="pred", enabled=False)(d)
    assert out["pred"] is d["pred"] and "breast_gate" not in out


def test_array_transform_and_threshold():
    img, pred = _film(), _pred()
    assert np.asarray(GateByBreast()(pred, img))[0, 96:109, 6:14].sum() == 0
    _, counts = GateByBreast(threshold=0.95).gate(pred, *breast_box(img))  # nothing counts as lesion at 0.95
    assert counts == {"removed_pixels": 0, "removed_components": 0}
    with pytest.raises(ValueError, match=r"expects a \(C, W, H\) prediction"):
        GateByBreast().gate(pred[0], *breast_box(img))


def test_boxes_whose_centre_is_outside_are_dropped_with_their_labels_and_scores():
    img = _film()
    boxes = torch.tensor([[20.0, 40, 30, 50], [96, 6, 109, 14], [55, 48, 70, 52]])  # centres x = 25, 102.5, 62.5
    d = {"image": img, "box": boxes, "label": torch.tensor([0, 1, 0]), "score": np.array([0.9, 0.8, 0.7])}
    out = GateBoxesByBreastd(["box", "label", "score"])(d)
    keep = boxes_in_breast(boxes, img)
    assert keep.tolist() == [True, False, False]
    assert out["box"].tolist() == [[20.0, 40, 30, 50]] and out["label"].tolist() == [0]
    assert out["score"].tolist() == [0.9] and out["breast_gate"] == {"removed_boxes": 2}
    empty = GateBoxesByBreastd(["box", "label"])({"image": img, "box": torch.zeros(0, 4), "label": torch.zeros(0)})
    assert empty["box"].shape == (0, 4) and empty["breast_gate"] == {"removed_boxes": 0}
    with pytest.raises(ValueError, match="'label' has 2 entries, the boxes 3"):
        GateBoxesByBreastd(["box", "label"])({"image": img, "box": boxes, "label": torch.tensor([0, 1])})
