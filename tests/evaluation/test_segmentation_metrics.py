"""Per-image segmentation metrics and their summary, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_cbis.evaluation import lesion_mask, segmentation_metrics, summarize_segmentation
from monai_cbis.zoo.specs import SPECS


def square(r0, c0, size=2, shape=(4, 4)):
    a = np.zeros((1,) + shape, dtype=np.float32)
    a[0, r0 : r0 + size, c0 : c0 + size] = 1
    return a


def test_perfect():
    m = segmentation_metrics(square(0, 0), square(0, 0))
    for k in ("lesion_dice", "lesion_iou", "background_dice", "background_iou", "pixel_accuracy"):
        assert m[k] == 1.0
    assert m["mean_dice_incl_background"] == m["mean_iou_incl_background"] == 1.0
    assert (m["label_lesion_pixels"], m["pred_lesion_pixels"], m["overlap_pixels"], m["total_pixels"]) == (4, 4, 4, 16)


def test_disjoint():
    # tp 0, fp 4, fn 4, tn 8
    m = segmentation_metrics(square(0, 0), square(2, 2))
    assert m["lesion_dice"] == 0.0 and m["lesion_iou"] == 0.0
    assert m["background_dice"] == pytest.approx(16 / 24)
    assert m["background_iou"] == pytest.approx(8 / 16)
    assert m["mean_dice_incl_background"] == pytest.approx(1 / 3)
    assert m["mean_iou_incl_background"] == pytest.approx(0.25)
    assert m["pixel_accuracy"] == 0.5


def test_half_overlap_and_background_inclusive_mean():
    # label rows 0-1 cols 0-1, prediction rows 0-1 cols 1-2: tp 2, fp 2, fn 2, tn 10
    m = segmentation_metrics(square(0, 0), square(0, 1))
    assert m["lesion_dice"] == pytest.approx(0.5)
    assert m["lesion_iou"] == pytest.approx(1 / 3)
    assert m["background_dice"] == pytest.approx(20 / 24)
    assert m["background_iou"] == pytest.approx(10 / 14)
    assert m["mean_dice_incl_background"] == pytest.approx((0.5 + 5 / 6) / 2)
    assert m["mean_iou_incl_background"] == pytest.approx((1 / 3 + 5 / 7) / 2)
    assert m["pixel_accuracy"] == pytest.approx(12 / 16)
    assert m["overlap_pixels"] == 2


def test_both_empty_scores_one():
    z = np.zeros((1, 4, 4))
    m = segmentation_metrics(z, z)
    assert m["lesion_dice"] == m["lesion_iou"] == 1.0
    assert m["mean_dice_incl_background"] == 1.0
    assert m["label_lesion_pixels"] == m["pred_lesion_pixels"] == 0


def test_one_side_empty_scores_zero():
    z = np.zeros((1, 4, 4))
    assert segmentation_metrics(z, square(0, 0))["lesion_dice"] == 0.0  # false alarm
    assert segmentation_metrics(square(0, 0), z)["lesion_iou"] == 0.0  # missed lesion


def test_all_lesion_background_absent_scores_one():
    full = np.ones((1, 3, 3))
    m = segmentation_metrics(full, full)
    assert m["background_dice"] == m["background_iou"] == 1.0


@pytest.mark.parametrize("kind", ["numpy", "torch", "meta", "spatial", "bfloat16"])
def test_input_types(kind):
    label, pred = square(0, 0), square(0, 1)
    if kind == "torch":
        label, pred = torch.as_tensor(label), torch.as_tensor(pred)
    elif kind == "meta":
        label, pred = MetaTensor(label), MetaTensor(pred, meta={"filename_or_obj": "x.png"})
    elif kind == "bfloat16":  # CPU autocast output
        label, pred = torch.as_tensor(label), torch.as_tensor(pred).to(torch.bfloat16)
    elif kind == "spatial":
        label, pred = label[0], pred[0]
    assert segmentation_metrics(label, pred)["lesion_dice"] == pytest.approx(0.5)


def test_two_channel_softmax_takes_lesion_channel_and_threshold():
    p = np.zeros((2, 2, 2), dtype=np.float32)
    p[1] = [[0.5, 0.49], [0.9, 0.1]]  # 0.5 counts as lesion (>=, as MONAI's AsDiscrete)
    p[0] = 1 - p[1]
    assert lesion_mask(p).tolist() == [[True, False], [True, False]]
    assert lesion_mask(p, threshold=0.95).sum() == 0
    onehot_label = np.stack([1 - lesion_mask(p), lesion_mask(p)]).astype(np.uint8)
    assert segmentation_metrics(onehot_label, p)["lesion_dice"] == 1.0


def test_label_255_and_probabilities():
    label = square(0, 0) * 255
    prob = square(0, 0) * 0.8 + 0.1  # 0.9 inside, 0.1 outside
    assert segmentation_metrics(label, prob)["lesion_dice"] == 1.0


def test_shape_mismatch_names_both_shapes_and_file():
    with pytest.raises(ValueError, match=r"\(4, 4\).*\(5, 5\).*case_7\.png"):
        segmentation_metrics(np.zeros((1, 5, 5)), np.zeros((1, 4, 4)), filename="case_7.png")


def test_too_many_channels_is_an_error():
    with pytest.raises(ValueError, match=r"\(3, 4, 4\)"):
        lesion_mask(np.zeros((3, 4, 4)), name="pred")


def test_summary_means_medians_counts_and_pooled():
    z = np.zeros((1, 4, 4))
    rows = [
        segmentation_metrics(square(0, 0), square(0, 0)),  # dice 1
        segmentation_metrics(square(0, 0), square(0, 1)),  # dice 0.5
        segmentation_metrics(square(0, 0), square(2, 2)),  # dice 0
        segmentation_metrics(z, z),  # both empty: dice 1
    ]
    s = summarize_segmentation(rows, threshold=0.5, paper_reference=SPECS["unet_effb3"].published)
    assert s["n_images"] == 4
    assert s["lesion_dice"] == pytest.approx(2.5 / 4)
    assert s["median"]["lesion_dice"] == pytest.approx(0.75)
    assert s["lesion_iou"] == pytest.approx((1 + 1 / 3 + 0 + 1) / 4)
    assert s["pixel_accuracy"] == pytest.approx((1 + 0.75 + 0.5 + 1) / 4)
    assert s["mean_dice_incl_background"] == pytest.approx((1 + (0.5 + 5 / 6) / 2 + 1 / 3 + 1) / 4)
    assert (s["n_empty_label"], s["n_empty_pred"], s["n_both_empty"], s["n_nonempty_label"]) == (1, 1, 1, 3)
    assert s["lesion_dice_nonempty_label"] == pytest.approx(1.5 / 3)
    # pooled over pixels: tp 4+2+0, label 12, pred 12 -> dice 12/24
    assert s["pooled"]["lesion_dice"] == pytest.approx(0.5)
    assert s["per_metric"]["lesion_dice"]["n"] == 4
    assert s["per_metric"]["lesion_dice"]["min"] == 0.0
    ref = s["paper_reference"]  # written as given (the bundle spec's published figure)
    assert ref["figures"]["mean_iou_incl_background"] == 0.956
    assert ref["figures"]["mean_dice_incl_background"] == 0.968
    assert "not results of this run" in ref["note"]
    assert "paper_reference" not in summarize_segmentation(rows, paper_reference=None)
    assert "paper_reference" not in summarize_segmentation(rows)  # the published figures live with the specs


def test_summary_of_nothing_is_explicit_none():
    s = summarize_segmentation([])
    assert s["n_images"] == 0 and s["lesion_dice"] is None and s["pooled"] is None
    assert "paper_reference" not in s
