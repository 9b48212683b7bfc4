"""COCO mAP through MONAI's matching_batch + COCOMetric on 2-D boxes, against hand-computed average precision."""

from __future__ import annotations

import numpy as np
import pytest

from monai_cbis.evaluation.detection_map import MAP_IOUS, coco_map, map_key

E = np.zeros((0, 4))


def test_perfect_and_iou_dependent():
    gt = [np.array([[0, 0, 10, 10]])]
    assert coco_map([np.array([[0, 0, 10, 10]])], [np.array([0.7])], gt)[map_key(0.5)] == pytest.approx(1.0)
    # IoU 30/130 = 0.23: a hit at 0.1, a miss at 0.5
    m = coco_map([np.array([[0, 0, 10, 13]])], [np.array([0.7])], [np.array([[0, 3, 10, 6]])])
    assert m[map_key(0.1)] == pytest.approx(1.0) and m[map_key(0.5)] == pytest.approx(0.0)


def test_hand_computed_ap_with_a_lesion_free_image():
    # image 1: lesion A found at 0.5; image 2 (no lesion): a false mark at 0.9; image 3: lesion B missed.
    # ranked: FP (0.9), TP (0.5); 2 lesions. Recall 0.5 at precision 0.5; COCO's 101 recall points 0.00..0.50 get
    # precision 0.5, the other 50 get 0: AP = 51 * 0.5 / 101.
    m = coco_map(
        [np.array([[0, 0, 10, 10]]), np.array([[5, 5, 8, 8]]), E],
        [np.array([0.5]), np.array([0.9]), np.zeros(0)],
        [np.array([[0, 0, 10, 10]]), E, np.array([[1, 1, 3, 3]])],
    )
    for iou in MAP_IOUS:
        assert m[map_key(iou)] == pytest.approx(51 * 0.5 / 101)
    assert m["mar_iou_0.1_to_0.5"] == pytest.approx(0.5) and (m["n_images"], m["n_lesions"]) == (3, 2)


def test_no_lesion_is_undefined_and_lengths_must_agree():
    m = coco_map([np.array([[0, 0, 1, 1]])], [np.array([0.5])], [E])
    assert m[map_key(0.1)] is None and m["n_lesions"] == 0
    with pytest.raises(ValueError, match="one entry per image"):
        coco_map([E], [], [E])
