"""Lesion-level detection scoring: which marks find which lesions, and the FROC curve (pure numpy).

A model's output on one image is a set of scored marks ("detections": boxes with scores, or a segmenter's connected
components, see :mod:`.lesion_components`); the ground truth is the image's lesions (boxes, and masks when known).

Hit criterion (:data:`HIT_CRITERIA`): a detection *hits* a lesion when their overlap is at least ``threshold``:

* ``"box_iou"`` (default, every model): IoU of the detection's box and the lesion's box >= 0.1. A segmenter's
  component is scored by its bounding box, so detectors and segmenters are measured the same way. 0.1 is the IoU
  of the MONAI lung-nodule detector's key metric (mAP@0.1) and suits CBIS-DDSM, whose ROI outlines are loose (a
  calcification cluster's outline is drawn by hand around scattered specks): a mark on the lesion counts, a mark
  that covers half the breast does not (its IoU with a lesion is small).
* ``"mask_iou"`` (segmenters only, optional): IoU of the component's pixels and the lesion mask's pixels >= 0.1.

Counting (the LUNA16 / CAD convention): a lesion is *found* at score threshold ``t`` when a detection with
score >= ``t`` hits it; it is found at most once, however many detections hit it. A detection that hits no lesion
is a false positive; a second detection on an already-found lesion is neither (it is not a false mark). Images
without any lesion count their false positives like every other image. So the whole FROC depends on two lists:
each lesion's *found score* (the highest score of the detections hitting it; ``-inf`` when none does) and the
scores of the false positives, plus the number of images.

FROC: for each distinct score threshold (highest first), sensitivity = lesions found / lesions, false positives per
image = false positives / images. The sensitivity at ``r`` false positives per image is the highest sensitivity
reached at a threshold whose false positives per image are <= ``r`` (no interpolation; beyond the last point the
curve stays at its end, where every detection is kept). :data:`FP_RATES` are the reported points (0.125 ... 4)
and their mean is the FROC score.

Example:
    >>> found = np.array([0.9, 0.4, -np.inf])   # three lesions: found at 0.9, at 0.4, never
    >>> fps = np.array([0.8, 0.3])              # two false marks over
    >>> f = froc(found, fps, n_images=2)        # two images
    >>> [round(s, 3) for s in f["sensitivity"]]  # at 0.125, 0.25, 0.5, 1, 2, 4 FP/image
    [0.333, 0.333, 0.667, 0.667, 0.667, 0.667]
    >>> round(f["mean_sensitivity"], 4)
    0.5556
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "FP_RATES",
    "HIT_CRITERIA",
    "hit_criterion_text",
    "box_iou",
    "match_image",
    "froc_points",
    "froc",
    "operating_threshold",
    "fp_rate_key",
]

#: False positives per image at which the sensitivity is reported; their mean is the FROC score.
FP_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0)

#: Hit criteria: name -> what is compared.
HIT_CRITERIA = {
    "box_iou": "IoU of the detection's box and the lesion's box",
    "mask_iou": "IoU of the detection's pixels (a segmenter's component) and the lesion mask's pixels",
}


def fp_rate_key(rate: float) -> str:
    """The ``metrics.json`` key of the sensitivity at ``rate`` false positives per image.

    Example:
        >>> fp_rate_key(0.125), fp_rate_key(1.0)
        ('sensitivity_at_0.125fp', 'sensitivity_at_1fp')
    """
    return f"sensitivity_at_{float(rate):g}fp"


def hit_criterion_text(criterion: str, threshold: float) -> str:
    """One sentence stating the hit criterion, for ``metrics.json`` and the logs.

    Example:
        >>> hit_criterion_text("box_iou", 0.1)[:60]
        "a detection hits a lesion when the IoU of the detection's bo"
    """
    if criterion not in HIT_CRITERIA:
        raise ValueError(f"Unsupported hit criterion: {criterion!r}, available options are {list(HIT_CRITERIA)}.")
    return (
        f"a detection hits a lesion when the {HIT_CRITERIA[criterion]} is >= {threshold:g}; a lesion is found once "
        "(by its highest-scoring hit), further hits on it are not false positives, a detection hitting no lesion "
        "is a false positive (images without lesions included)"
    )


def box_iou(a, b) -> np.ndarray:
    """IoU matrix ``(len(a), len(b))`` of boxes ``[start0, start1, end0, end1]`` (MONAI's 2-D ``xyxy``, ends
    exclusive). Boxes of zero area have IoU 0 with everything.

    Example:
        >>> box_iou([[0, 0, 2, 2]], [[1, 0, 3, 2], [5, 5, 6, 6]]).round(4).tolist()
        [[0.3333, 0.0]]
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_image(scores, overlap, threshold: float = 0.1) -> dict:
    """Hits of one image's detections on its lesions.

    Args:
        scores: ``(D,)`` detection scores.
        overlap: ``(D, G)`` overlap of each detection with each lesion under the chosen criterion (e.g.
            :func:`box_iou` of their boxes).
        threshold: a detection hits a lesion when the overlap is ``>= threshold`` (and above 0).

    Returns:
        ``{"found_score": (G,) highest score of a hitting detection (-inf: none), "best_overlap": (G,) the largest
        overlap of any detection, "hit": (D,) whether each detection hits a lesion, "fp_scores": scores of the
        detections that hit none}``.

    Example:
        >>> m = match_image([0.9, 0.5, 0.2], [[0.5], [0.3], [0.0]])
        >>> m["found_score"].tolist(), m["hit"].tolist(), m["fp_scores"].tolist()
        ([0.9], [True, True, False], [0.2])
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    ov = np.asarray(overlap, dtype=np.float64)
    if ov.ndim != 2 or ov.shape[0] != s.size:
        raise ValueError(f"overlap must be (detections, lesions) = ({s.size}, G), got shape {ov.shape}.")
    hits = (ov >= threshold) & (ov > 0)
    found = np.where(hits, s[:, None], -np.inf).max(axis=0, initial=-np.inf)
    best = ov.max(axis=0, initial=0.0)
    det_hit = hits.any(axis=1)
    return {"found_score": found, "best_overlap": best, "hit": det_hit, "fp_scores": s[~det_hit]}


def froc_points(found_scores, fp_scores, n_images: int) -> dict:
    """The FROC curve's points, one per distinct score threshold (highest first), after a start at (0, 0).

    Args:
        found_scores: each lesion's found score (``-inf``: never found), over all images.
        fp_scores: the scores of all false positives, over all images.
        n_images: images evaluated (those without lesions or detections included).

    Returns:
        ``{"thresholds": [inf, t1, t2, ...], "fp_per_image": [...], "sensitivity": [...], "n_lesions",
        "n_images", "n_false_positives"}`` (lists; sensitivity None for every point when there are no lesions).

    Example:
        >>> p = froc_points([0.9, -np.inf], [0.5], 1)
        >>> p["thresholds"][1:], p["fp_per_image"], p["sensitivity"]
        ([0.9, 0.5], [0.0, 0.0, 1.0], [0.0, 0.5, 0.5])
    """
    if n_images <= 0:
        raise ValueError(f"n_images must be > 0 to compute false positives per image, got {n_images}.")
    found = np.asarray(found_scores, dtype=np.float64).reshape(-1)
    fps = np.asarray(fp_scores, dtype=np.float64).reshape(-1)
    thresholds = np.unique(np.concatenate([found[np.isfinite(found)], fps]))[::-1]
    # counts at each threshold t: scores >= t (thresholds descending, so the counts grow)
    n_found = (found.size - np.searchsorted(np.sort(found), thresholds, side="left")).astype(np.float64)
    n_fp = (fps.size - np.searchsorted(np.sort(fps), thresholds, side="left")).astype(np.float64)
    n_found = np.concatenate([[0.0], n_found])
    n_fp = np.concatenate([[0.0], n_fp])
    sens = (n_found / found.size).tolist() if found.size else [None] * n_found.size
    return {
        "thresholds": [float("inf")] + thresholds.tolist(),
        "fp_per_image": (n_fp / n_images).tolist(),
        "sensitivity": sens,
        "n_lesions": int(found.size),
        "n_images": int(n_images),
        "n_false_positives": int(fps.size),
    }


def _at_rates(fp_per_image: np.ndarray, sensitivity: np.ndarray, rates: Sequence[float]) -> np.ndarray:
    """Sensitivity at each rate: the value at the last point whose false positives per image are <= the rate."""
    last = np.searchsorted(fp_per_image, np.asarray(rates, dtype=np.float64), side="right") - 1
    return sensitivity[np.clip(last, 0, None)]


def froc(found_scores, fp_scores, n_images: int, fp_rates: Sequence[float] = FP_RATES) -> dict:
    """Sensitivity at each of ``fp_rates`` false positives per image, their mean, and the curve.

    Args:
        found_scores, fp_scores, n_images: as for :func:`froc_points`.
        fp_rates: the reported false-positive rates (default :data:`FP_RATES`).

    Returns:
        ``{"fp_rates", "sensitivity" (one per rate), "mean_sensitivity", "max_sensitivity" (every detection kept),
        "max_fp_per_image", "curve": froc_points(...)}``; sensitivities are None when there are no lesions.

    Example:
        >>> froc([0.9], [], 4)["mean_sensitivity"]   # one lesion, found with no false positive
        1.0
    """
    pts = froc_points(found_scores, fp_scores, n_images)
    fp = np.asarray(pts["fp_per_image"])
    if pts["n_lesions"] == 0:
        sens_at: list = [None] * len(fp_rates)
        mean, top = None, None
    else:
        s = np.asarray(pts["sensitivity"], dtype=np.float64)
        sens_at = _at_rates(fp, s, fp_rates).tolist()
        mean, top = float(np.mean(sens_at)), float(s[-1])
    return {
        "fp_rates": [float(r) for r in fp_rates],
        "sensitivity": sens_at,
        "mean_sensitivity": mean,
        "max_sensitivity": top,
        "max_fp_per_image": float(fp[-1]),
        "curve": pts,
    }


def operating_threshold(found_scores, fp_scores, n_images: int, fp_rate: float = 1.0) -> float:
    """The lowest score threshold whose false positives per image are <= ``fp_rate`` (the most sensitive such
    operating point); ``inf`` when not even the highest-scoring detection fits (or there are no detections).

    Example:
        >>> operating_threshold([0.9, 0.4], [0.8, 0.3], n_images=2, fp_rate=0.5)
        0.4
    """
    pts = froc_points(found_scores, fp_scores, n_images)
    fp = np.asarray(pts["fp_per_image"])
    last = int(np.searchsorted(fp, float(fp_rate), side="right")) - 1
    return float(pts["thresholds"][max(last, 0)])
