"""Classification metrics on small arrays; the AUC against a brute-force pair count."""

from __future__ import annotations

import numpy as np
import pytest

from monai_cbis.evaluation import binary_confusion_matrix, classification_metrics, roc_auc, roc_curve


def pairwise_auc(y, s):
    """P(score of a malignant case > score of a benign one), ties half: every pair counted by hand."""
    pos = [v for v, t in zip(s, y, strict=True) if t == 1]
    neg = [v for v, t in zip(s, y, strict=True) if t == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(5))
def test_auc_matches_pair_count_with_ties(seed):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, 40)
    y[:2] = [0, 1]
    s = rng.randint(0, 6, 40) / 5.0  # few distinct values: many ties
    assert roc_auc(y, s) == pytest.approx(pairwise_auc(y, s))


def test_auc_is_area_under_roc_curve():
    rng = np.random.RandomState(3)
    y = rng.randint(0, 2, 50)
    s = np.round(rng.rand(50), 1)
    fpr, tpr, thr = roc_curve(y, s)
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
    assert np.all(np.diff(thr[1:]) < 0)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # trapezoids
    assert area == pytest.approx(roc_auc(y, s))


def test_auc_extremes_and_single_class():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert roc_auc([0, 0, 1, 1], [0.5] * 4) == 0.5
    assert roc_auc([1, 1, 1], [0.1, 0.2, 0.3]) is None


def test_hand_computed_metrics():
    y = [0, 0, 0, 0, 0, 1, 1, 1]
    p = [0.1, 0.2, 0.6, 0.3, 0.4, 0.7, 0.45, 0.9]
    # predicted (>= 0.5): 0 0 1 0 0 1 0 1 -> TN 4, FP 1, FN 1, TP 2
    m = classification_metrics(y, p, threshold=0.5)
    assert m["confusion_matrix"] == [[4, 1], [1, 2]]
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["majority_baseline_accuracy"] == pytest.approx(5 / 8)
    assert m["majority_class"] == "benign"
    assert m["sensitivity"] == pytest.approx(2 / 3)
    assert m["specificity"] == pytest.approx(4 / 5)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert m["ppv"] == pytest.approx(2 / 3) and m["npv"] == pytest.approx(4 / 5)
    assert m["roc_auc"] == pytest.approx(pairwise_auc(y, p))
    assert (m["n_cases"], m["n_malignant"], m["n_benign"]) == (8, 3, 5)
    assert m["malignant_fraction"] == pytest.approx(3 / 8)
    assert list(m)[:2] == ["accuracy", "majority_baseline_accuracy"]  # the baseline printed beside accuracy


def test_threshold_moves_the_decision():
    y, p = [0, 1], [0.3, 0.6]
    assert classification_metrics(y, p, threshold=0.7)["confusion_matrix"] == [[1, 0], [1, 0]]
    assert classification_metrics(y, p, threshold=0.3)["confusion_matrix"] == [[0, 1], [0, 1]]  # >= threshold


def test_majority_malignant_and_undefined_ratios():
    m = classification_metrics([1, 1, 1, 0], [0.9, 0.8, 0.7, 0.6])
    assert m["majority_class"] == "malignant" and m["majority_baseline_accuracy"] == 0.75
    only_benign = classification_metrics([0, 0], [0.1, 0.9])
    assert only_benign["sensitivity"] is None and only_benign["roc_auc"] is None
    assert only_benign["balanced_accuracy"] is None and only_benign["specificity"] == 0.5


def test_confusion_matrix_layout():
    assert binary_confusion_matrix([0, 1, 1, 0], [1, 1, 0, 0]).tolist() == [[1, 1], [1, 1]]
    assert binary_confusion_matrix([1, 1], [1, 1]).tolist() == [[0, 0], [0, 2]]


def test_errors_name_the_bad_values():
    with pytest.raises(ValueError, match=r"0 \(benign\) or 1 \(malignant\).*2\.0"):
        classification_metrics([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="3 scores for 2 labels"):
        roc_auc([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="finite"):
        roc_auc([0, 1], [0.1, float("nan")])
