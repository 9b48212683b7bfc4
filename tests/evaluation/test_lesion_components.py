"""A segmenter's components as scored detections; lesions from masks; per-lesion Dice; the hit criteria."""

from __future__ import annotations

import numpy as np
import pytest

from monai_cbis.evaluation.lesion_components import mask_detections, mask_lesions, score_segmentation


def blobs(shape=(32, 32), spots=()):
    a = np.zeros(shape, np.float32)
    for (r0, c0, r1, c1), v in spots:
        a[r0:r1, c0:c1] = v
    return a


def test_component_score_is_its_highest_probability_and_box_is_xyxy():
    prob = blobs(spots=[((2, 3, 6, 9), 0.6), ((20, 20, 24, 22), 0.7)])
    prob[4, 5] = 0.95  # the peak of the first blob
    prob[10, 10] = 0.4  # below the threshold: not a mark
    det = mask_detections(prob, threshold=0.5)
    assert det["scores"].tolist() == pytest.approx([0.95, 0.7])
    assert det["boxes"].tolist() == [[2, 3, 6, 9], [20, 20, 24, 22]]  # [start0, start1, end0, end1]
    assert det["areas"].tolist() == [24, 8] and det["n_components"] == 2
    assert sorted(np.unique(det["labels"]).tolist()) == [0, 1, 2]
    # diagonal neighbours are one component (8-connectivity)
    diag = np.zeros((4, 4), np.float32)
    diag[0, 0] = diag[1, 1] = 0.9
    assert mask_detections(diag)["n_components"] == 1


def test_binary_mask_decides_components_and_cap_keeps_the_best():
    prob = blobs(spots=[((0, 0, 2, 2), 0.9), ((10, 10, 12, 12), 0.8), ((20, 20, 22, 22), 0.7)])
    gated = prob >= 0.5
    gated[0:2, 0:2] = False  # removed by post-processing (e.g. outside the breast): no mark, though prob is high
    det = mask_detections(prob, binary=gated, max_detections=1)
    assert det["scores"].tolist() == pytest.approx([0.8]) and det["n_components"] == 2
    assert (det["labels"] > 0).sum() == 4  # the capped-off component is no longer labelled


def test_lesions_per_channel_keep_identity_merged_labels_give_components():
    stack = np.zeros((3, 16, 16))
    stack[0, 2:6, 2:6] = 1
    stack[1, 4:8, 4:8] = 1  # overlaps lesion 0: still its own lesion
    les = mask_lesions(stack)  # channel 2 is empty: no lesion
    assert les["per_channel"] and les["boxes"].tolist() == [[2, 2, 6, 6], [4, 4, 8, 8]]
    merged = mask_lesions(stack.max(axis=0, keepdims=True))
    assert not merged["per_channel"] and merged["areas"].tolist() == [28]  # the union is one component


def test_hits_and_lesion_dice():
    label = blobs(spots=[((2, 2, 6, 6), 1), ((20, 20, 24, 24), 1)])
    # lesion 0: covered by a component twice its size (IoU 0.5); lesion 1: missed; one false mark elsewhere
    prob = blobs(spots=[((2, 2, 10, 6), 0.8), ((12, 28, 14, 30), 0.6)])
    r = score_segmentation(label, prob)
    m = r["match"]
    assert m["found_score"].tolist() == pytest.approx([0.8, -np.inf])
    assert m["fp_scores"].tolist() == pytest.approx([0.6])
    assert r["lesion_dice"].tolist() == pytest.approx([2 * 16 / (16 + 32), 0.0])
    # a tiny mark inside a large lesion: box IoU 1/16 misses at 0.1, the pixel IoU the same; at 0.05 both hit
    big = blobs(spots=[((0, 0, 8, 8), 1)])
    tiny = blobs(spots=[((3, 3, 5, 5), 0.9)])
    for criterion in ("box_iou", "mask_iou"):
        assert score_segmentation(big, tiny, criterion=criterion)["match"]["fp_scores"].size == 1
        assert score_segmentation(big, tiny, criterion=criterion, hit_threshold=0.05)["match"]["hit"].all()
    with pytest.raises(ValueError, match="Unsupported hit criterion"):
        score_segmentation(big, tiny, criterion="centre")


def test_mask_iou_differs_from_box_iou_for_a_ring():
    ring = np.zeros((12, 12), np.float32)
    ring[1:11, 1:11] = 1
    ring[3:9, 3:9] = 0  # a ring: its box covers the hole
    centre = blobs((12, 12), [((3, 3, 9, 9), 0.9)])  # a mark in the hole
    assert score_segmentation(ring, centre, criterion="box_iou")["match"]["hit"].all()  # box IoU 36/100
    assert not score_segmentation(ring, centre, criterion="mask_iou")["match"]["hit"].any()  # no shared pixel


def test_empty_and_mismatched():
    r = score_segmentation(np.zeros((8, 8)), np.zeros((8, 8)))
    assert r["match"]["found_score"].size == 0 and r["detections"]["scores"].size == 0
    with pytest.raises(ValueError, match="differs from the prediction"):
        score_segmentation(np.zeros((8, 8)), np.zeros((8, 9)))
