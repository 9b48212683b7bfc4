"""Benign / malignant classification metrics: accuracy beside its majority-class baseline, ROC AUC, sensitivity.

Labels are 0 (benign, including "benign without callback") and 1 (malignant); scores are the predicted probability
of malignancy. A case is predicted malignant when ``probability >= threshold``.

* ``accuracy`` is reported beside ``majority_baseline_accuracy`` = ``max(p, 1 - p)`` for the malignant fraction
  ``p`` of the labels: what always answering the majority class (usually benign in CBIS-DDSM) scores. An accuracy
  near it means the model learned little.
* ``balanced_accuracy`` = (sensitivity + specificity) / 2; ``sensitivity`` (recall of malignant) = TP / (TP + FN);
  ``specificity`` = TN / (TN + FP); ``ppv`` = TP / (TP + FP); ``npv`` = TN / (TN + FN).
* ``roc_auc``: the probability that a random malignant case scores above a random benign one, ties counting half
  (the Mann-Whitney U statistic; identical to the trapezoidal area under the ROC curve).

A ratio whose denominator is zero (e.g. the AUC when only one class is present) is None (``null`` in JSON), never a
made-up number.

Example:
    >>> m = classification_metrics([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> m["accuracy"], m["majority_baseline_accuracy"], m["roc_auc"]
    (0.5, 0.5, 0.75)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data.case_fields import CASE_COLUMNS

__all__ = [
    "CLASS_NAMES",
    "CLASSIFICATION_CSV_COLUMNS",
    "binary_confusion_matrix",
    "roc_auc",
    "roc_curve",
    "classification_metrics",
]

CLASS_NAMES = ("benign", "malignant")

# Columns of per_case.csv (true_label and predicted_label: 1 = malignant).
CLASSIFICATION_CSV_COLUMNS = ("image", "case", *CASE_COLUMNS, "true_label", "prob_malignant", "predicted_label")


def _as_binary(y_true, name: str = "y_true") -> np.ndarray:
    y = np.asarray(y_true).reshape(-1)
    if y.size and not np.isin(y, (0, 1)).all():
        bad = sorted({float(v) for v in y[~np.isin(y, (0, 1))]})[:5]
        raise ValueError(f"{name} must hold 0 (benign) or 1 (malignant), got values {bad}.")
    return y.astype(np.int64)


def _as_scores(scores, n: int) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.size != n:
        raise ValueError(f"Got {s.size} scores for {n} labels; they must pair up one to one.")
    if not np.isfinite(s).all():
        raise ValueError(f"Scores must be finite, got {s[~np.isfinite(s)][:5].tolist()}.")
    return s


def binary_confusion_matrix(y_true, y_pred) -> np.ndarray:
    """The 2 x 2 confusion matrix, rows = true class, columns = predicted class (0 benign, 1 malignant).

    Example:
        >>> binary_confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1]).tolist()
        [[1, 1], [0, 2]]
    """
    t, p = _as_binary(y_true), _as_binary(y_pred, "y_pred")
    if t.size != p.size:
        raise ValueError(f"Got {p.size} predictions for {t.size} labels.")
    return np.bincount(2 * t + p, minlength=4).reshape(2, 2)


def roc_auc(y_true, scores) -> float | None:
    """Area under the ROC curve from ranks (ties count half); None when only one class is present.

    Example:
        >>> roc_auc([0, 1, 0, 1], [0.2, 0.8, 0.5, 0.5])
        0.875
    """
    t = _as_binary(y_true)
    s = _as_scores(scores, t.size)
    n_pos, n_neg = int(t.sum()), int(t.size - t.sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_s = s[order]
    # average rank (1-based) for each run of tied scores
    boundaries = np.flatnonzero(np.diff(sorted_s)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [s.size]))
    for a, b in zip(starts, ends, strict=True):
        ranks[order[a:b]] = (a + 1 + b) / 2
    u = ranks[t == 1].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def roc_curve(y_true, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC points ``(fpr, tpr, thresholds)``, one per distinct score from high to low, starting at (0, 0).

    ``thresholds[i]`` is the score at or above which a case is called malignant for point ``i`` (``inf`` for the
    first point). With one class missing the corresponding rate is all zeros.

    Example:
        >>> fpr, tpr, thr = roc_curve([0, 1, 1], [0.2, 0.9, 0.2])
        >>> fpr.tolist(), tpr.tolist()
        ([0.0, 0.0, 1.0], [0.0, 0.5, 1.0])
    """
    t = _as_binary(y_true)
    s = _as_scores(scores, t.size)
    order = np.argsort(-s, kind="mergesort")
    s_sorted, t_sorted = s[order], t[order]
    last_of_run = np.concatenate((np.flatnonzero(np.diff(s_sorted)), [s.size - 1])) if s.size else np.array([], int)
    tps = np.cumsum(t_sorted)[last_of_run]
    fps = (last_of_run + 1) - tps
    n_pos, n_neg = max(int(t.sum()), 1), max(int(t.size - t.sum()), 1)
    fpr = np.concatenate(([0.0], fps / n_neg))
    tpr = np.concatenate(([0.0], tps / n_pos))
    thresholds = np.concatenate(([np.inf], s_sorted[last_of_run]))
    return fpr, tpr, thresholds


def _ratio(num: int, den: int) -> float | None:
    return float(num / den) if den else None


def classification_metrics(y_true: Sequence[int], prob_malignant: Sequence[float], threshold: float = 0.5) -> dict:
    """Metrics for benign (0) / malignant (1) labels and probabilities of malignancy.

    Args:
        y_true: 0/1 labels.
        prob_malignant: probabilities (any finite scores work for the AUC; ``threshold`` applies to them).
        threshold: a case is predicted malignant when ``prob >= threshold``.

    Returns:
        dict with ``accuracy``, ``majority_baseline_accuracy``, ``majority_class``, ``balanced_accuracy``,
        ``roc_auc``, ``sensitivity``, ``specificity``, ``ppv``, ``npv``, ``confusion_matrix`` (rows true, columns
        predicted, ``[[TN, FP], [FN, TP]]``), ``n_cases``, ``n_malignant``, ``n_benign``, ``malignant_fraction``,
        ``threshold``, ``positive_class``. Undefined ratios are None.

    Raises:
        ValueError: labels other than 0/1, non-finite scores, or lengths that differ.

    Example:
        >>> classification_metrics([0, 0, 0, 1], [0.2, 0.3, 0.7, 0.8])["majority_baseline_accuracy"]
        0.75
    """
    t = _as_binary(y_true)
    s = _as_scores(prob_malignant, t.size)
    pred = (s >= threshold).astype(np.int64)
    cm = binary_confusion_matrix(t, pred)
    (tn, fp), (fn, tp) = cm.tolist()
    n = int(t.size)
    n_pos = tp + fn
    p = n_pos / n if n else None
    sens, spec = _ratio(tp, tp + fn), _ratio(tn, tn + fp)
    return {
        "accuracy": _ratio(tp + tn, n),
        "majority_baseline_accuracy": max(p, 1 - p) if p is not None else None,
        "majority_class": (CLASS_NAMES[1] if p > 0.5 else CLASS_NAMES[0]) if p is not None else None,
        "balanced_accuracy": (sens + spec) / 2 if sens is not None and spec is not None else None,
        "roc_auc": roc_auc(t, s) if n else None,
        "sensitivity": sens,
        "specificity": spec,
        "ppv": _ratio(tp, tp + fp),
        "npv": _ratio(tn, tn + fn),
        "confusion_matrix": cm.tolist(),
        "confusion_matrix_layout": "rows = true [benign, malignant], columns = predicted [benign, malignant]",
        "n_cases": n,
        "n_malignant": n_pos,
        "n_benign": n - n_pos,
        "malignant_fraction": p,
        "threshold": threshold,
        "positive_class": CLASS_NAMES[1],
    }


def __getattr__(name: str):
    if name == "PAPER_REFERENCE_CLASSIFICATION":  # the former table, now derived from the bundle specs
        from .references import deprecated_table

        return deprecated_table(__name__, name, "classification")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
