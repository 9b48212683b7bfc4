"""FROC on hand-built cases with known answers: the hit criterion, one find per lesion, images without lesions."""

from __future__ import annotations

import numpy as np
import pytest

from monai_cbis.evaluation.froc import (
    FP_RATES,
    box_iou,
    fp_rate_key,
    froc,
    froc_points,
    hit_criterion_text,
    match_image,
    operating_threshold,
)


def test_box_iou_known_values():
    iou = box_iou([[0, 0, 4, 4]], [[0, 0, 4, 4], [2, 0, 6, 4], [4, 4, 8, 8], [1, 1, 1, 3]])
    # touching corners and empty boxes: 0
    assert iou.shape == (1, 4) and iou[0].tolist() == pytest.approx([1.0, 8 / 24, 0.0, 0.0])
    assert box_iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)


def test_match_image_finds_each_lesion_once_and_duplicates_are_not_false_positives():
    # detections: two on lesion 0 (0.9, 0.6), one on both lesions (0.5), one on nothing (0.95)
    overlap = np.array([[0.5, 0.0], [0.3, 0.0], [0.2, 0.15], [0.0, 0.05]])
    m = match_image([0.9, 0.6, 0.5, 0.95], overlap, threshold=0.1)
    assert m["found_score"].tolist() == [0.9, 0.5]
    assert m["hit"].tolist() == [True, True, True, False]
    assert m["fp_scores"].tolist() == [0.95]
    assert m["best_overlap"].tolist() == [0.5, 0.15]
    with pytest.raises(ValueError, match=r"overlap must be \(detections, lesions\)"):
        match_image([0.9], np.zeros((2, 1)))


def test_hand_built_froc():
    # image A: lesions found at 0.9 and 0.3; false marks 0.8 and 0.2. Image B: one lesion never found, false mark
    # 0.7. Image C (no lesion): false marks 0.6 and 0.5: it counts them like every other image.
    found = [0.9, 0.3, -np.inf]
    fps = [0.8, 0.2, 0.7, 0.6, 0.5]
    pts = froc_points(found, fps, n_images=3)
    assert pts["thresholds"][1:] == [0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.2]
    assert pts["fp_per_image"] == pytest.approx([0, 0, 1 / 3, 2 / 3, 1, 4 / 3, 4 / 3, 5 / 3])
    assert pts["sensitivity"] == pytest.approx([0, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3])
    f = froc(found, fps, n_images=3)
    # at r FP/image: the highest sensitivity among points with at most r false marks per image
    expected = [1 / 3, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3]
    assert f["sensitivity"] == pytest.approx(expected)
    assert f["mean_sensitivity"] == pytest.approx(np.mean(expected))
    assert f["max_sensitivity"] == pytest.approx(2 / 3) and f["max_fp_per_image"] == pytest.approx(5 / 3)
    # the most sensitive threshold within 1 and within 1.5 false marks per image
    assert operating_threshold(found, fps, 3, 1.0) == 0.6
    assert operating_threshold(found, fps, 3, 1.5) == 0.3


def test_images_without_lesions_count_their_false_marks():
    # one image, its lesion found at 0.5 below two false marks: 2 FP/image before the lesion counts
    alone = froc([0.5], [0.9, 0.9], n_images=1)["sensitivity"]
    assert alone[FP_RATES.index(1.0)] == 0.0 and alone[FP_RATES.index(2.0)] == 1.0
    # a lesion-free image with no marks halves the rate: the lesion counts at 1 FP/image
    calm = froc([0.5], [0.9, 0.9], n_images=2)["sensitivity"]
    assert calm[FP_RATES.index(1.0)] == 1.0
    # lesion-free images with marks of their own add them: 4 false marks over 3 images exceed 1 FP/image
    crowded = froc([0.5], [0.9, 0.9, 0.9, 0.9], n_images=3)
    assert crowded["sensitivity"][FP_RATES.index(1.0)] == 0.0 and crowded["sensitivity"][-1] == 1.0


def test_no_lesions_and_no_detections():
    f = froc([], [0.4], n_images=2)
    assert f["sensitivity"] == [None] * len(FP_RATES) and f["mean_sensitivity"] is None
    g = froc([-np.inf, -np.inf], [], n_images=2)
    assert g["sensitivity"] == [0.0] * len(FP_RATES) and operating_threshold([-np.inf], [], 1) == float("inf")
    with pytest.raises(ValueError, match="n_images must be > 0"):
        froc([0.5], [], n_images=0)


def test_keys_and_criterion_text():
    assert [fp_rate_key(r) for r in FP_RATES][:3] == ["sensitivity_at_0.125fp", "sensitivity_at_0.25fp",
                                                     "sensitivity_at_0.5fp"]  # fmt: skip
    assert ">= 0.1" in hit_criterion_text("box_iou", 0.1) and "false positive" in hit_criterion_text("mask_iou", 0.2)
    with pytest.raises(ValueError, match="Unsupported hit criterion: 'centre'"):
        hit_criterion_text("centre", 0.1)
