"""Binary lesion segmentation metrics per image, and their summary over a data set.

Two classes per image: lesion (foreground) and background. For each image the four pixel counts
``tp`` (lesion in both), ``fp`` (lesion only in the prediction), ``fn`` (lesion only in the label) and ``tn`` give

* lesion Dice ``2 tp / (2 tp + fp + fn)`` and IoU ``tp / (tp + fp + fn)``: the headline numbers;
* background Dice ``2 tn / (2 tn + fp + fn)`` and IoU ``tn / (tn + fp + fn)``;
* the background-inclusive means ``(lesion + background) / 2``: what seed paper A reports (its figures are kept with
  its bundle's spec, :mod:`monai_cbis.zoo.specs`). Background covers nearly the whole image, so these stay high even
  when the lesion is missed;
* pixel accuracy ``(tp + tn) / pixels``.

Empty-mask convention (:data:`EMPTY_MASK_CONVENTION`): a class absent from both label and prediction scores
Dice = IoU = 1 for that class (nothing to find, nothing wrongly found). A class absent from only one of them scores 0.
Every real CBIS-DDSM label has a lesion, but crops, patches and synthetic images may not; the summary counts those
images (``n_empty_label``, ``n_empty_pred``, ``n_both_empty``) so a high mean cannot hide them.

Arrays are channel-first ``(C, ...)`` with ``C = 1`` (lesion probability or mask) or ``C = 2`` (background, lesion:
one-hot or softmax; the lesion channel is taken), or plain spatial arrays. Lesion is ``value >= threshold`` (MONAI's
``AsDiscrete(threshold=...)`` rule), for the label as for the prediction.

Example:
    >>> import numpy as np
    >>> label = np.zeros((1, 4, 4)); label[0, :2, :2] = 1
    >>> pred = np.zeros((1, 4, 4)); pred[0, :2, :1] = 1
    >>> m = segmentation_metrics(label, pred)
    >>> round(m["lesion_dice"], 4), round(m["lesion_iou"], 4), m["pixel_accuracy"]
    (0.6667, 0.5, 0.875)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ..data.case_fields import CASE_COLUMNS

__all__ = [
    "EMPTY_MASK_CONVENTION",
    "PER_IMAGE_METRICS",
    "SEGMENTATION_CSV_COLUMNS",
    "lesion_mask",
    "segmentation_metrics",
    "summarize_segmentation",
]

EMPTY_MASK_CONVENTION = (
    "A class absent from both label and prediction scores Dice = IoU = 1 for that class; absent from only one of "
    "them scores 0. Lesion is value >= threshold."
)

# Per-image scores that are averaged in the summary, in CSV column order.
PER_IMAGE_METRICS = (
    "lesion_dice",
    "lesion_iou",
    "background_dice",
    "background_iou",
    "mean_dice_incl_background",
    "mean_iou_incl_background",
    "pixel_accuracy",
)

# Columns of per_image.csv: the image path, its short unique case name (overlay file stem), the scores, pixel counts.
SEGMENTATION_CSV_COLUMNS = (
    ("image", "case")
    + CASE_COLUMNS
    + PER_IMAGE_METRICS
    + ("label_lesion_pixels", "pred_lesion_pixels", "overlap_pixels", "total_pixels")
)


def lesion_mask(x, threshold: float = 0.5, name: str = "array", filename: str | None = None) -> np.ndarray:
    """The boolean lesion mask of a label or prediction.

    Args:
        x: numpy array or tensor: spatial ``(H, W)`` / ``(H, W, D)``, or channel-first with one channel (lesion) or
            two channels (background, lesion). A 2-D array is taken as spatial.
        threshold: lesion is ``value >= threshold``.
        name: what ``x`` is, for error messages (``"label"``, ``"pred"``).
        filename: the image's file, for error messages.

    Returns:
        bool array of the spatial shape.

    Raises:
        ValueError: more than two channels.

    Example:
        >>> lesion_mask(np.array([[[0.9, 0.2]], [[0.1, 0.8]]])).tolist()  # softmax (2, 1, 2): lesion channel
        [[False, True]]
    """
    a = _numpy(x)
    if a.ndim >= 3:
        if a.shape[0] == 2:
            a = a[1]
        elif a.shape[0] == 1:
            a = a[0]
        else:
            where = f" for {filename}" if filename else ""
            raise ValueError(
                f"{name}{where} has shape {tuple(a.shape)}: expected channel-first (1, ...) lesion or (2, ...) "
                "(background, lesion) one-hot/softmax, or a spatial array."
            )
    if a.dtype == np.bool_:
        return a
    return a >= threshold


def segmentation_metrics(label, pred, threshold: float = 0.5, filename: str | None = None) -> dict:
    """Per-image lesion, background and background-inclusive scores (see the module docstring).

    Args:
        label: ground truth (array or tensor; shapes as in :func:`lesion_mask`).
        pred: prediction, binary or probabilities; same spatial shape as ``label``.
        threshold: lesion is ``value >= threshold`` (applies to both).
        filename: the image's file, named in errors.

    Returns:
        dict with the :data:`PER_IMAGE_METRICS` (floats) and the pixel counts ``label_lesion_pixels``,
        ``pred_lesion_pixels``, ``overlap_pixels``, ``total_pixels`` (ints).

    Raises:
        ValueError: label and prediction spatial shapes differ (both shapes and the file are named).

    Example:
        >>> segmentation_metrics(np.zeros((1, 3, 3)), np.zeros((1, 3, 3)))["lesion_dice"]  # both empty
        1.0
    """
    lab = lesion_mask(label, threshold, "label", filename)
    prd = lesion_mask(pred, threshold, "pred", filename)
    if lab.shape != prd.shape:
        raise ValueError(
            f"Prediction spatial shape {prd.shape} differs from label spatial shape {lab.shape}"
            f"{f' for {filename}' if filename else ''} (full shapes: pred {tuple(np.shape(pred))}, label "
            f"{tuple(np.shape(label))}); invert the pre-processing (or resample) so both match."
        )
    n = int(lab.size)
    n_lab, n_prd = int(np.count_nonzero(lab)), int(np.count_nonzero(prd))
    tp = int(np.count_nonzero(lab & prd))
    return _scores(tp, n_lab, n_prd, n)


def _scores(tp: int, n_lab: int, n_prd: int, n: int) -> dict:
    fp, fn = n_prd - tp, n_lab - tp
    tn = n - n_lab - n_prd + tp
    lesion_dice, lesion_iou = _dice(tp, fp, fn), _iou(tp, fp, fn)
    bg_dice, bg_iou = _dice(tn, fp, fn), _iou(tn, fp, fn)
    return {
        "lesion_dice": lesion_dice,
        "lesion_iou": lesion_iou,
        "background_dice": bg_dice,
        "background_iou": bg_iou,
        "mean_dice_incl_background": (lesion_dice + bg_dice) / 2,
        "mean_iou_incl_background": (lesion_iou + bg_iou) / 2,
        "pixel_accuracy": (tp + tn) / n if n else 1.0,
        "label_lesion_pixels": n_lab,
        "pred_lesion_pixels": n_prd,
        "overlap_pixels": tp,
        "total_pixels": n,
    }


def _dice(tp: int, fp: int, fn: int) -> float:
    den = 2 * tp + fp + fn
    return 2 * tp / den if den else 1.0  # class absent from both: 1 (EMPTY_MASK_CONVENTION)


def _iou(tp: int, fp: int, fn: int) -> float:
    den = tp + fp + fn
    return tp / den if den else 1.0


def _stats(values: Sequence[float]) -> dict:
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return {"mean": None, "median": None, "std": None, "min": None, "max": None, "n": 0}
    return {
        "mean": float(v.mean()),
        "median": float(np.median(v)),
        "std": float(v.std()),
        "min": float(v.min()),
        "max": float(v.max()),
        "n": int(v.size),
    }


def summarize_segmentation(
    rows: Iterable[Mapping], threshold: float = 0.5, paper_reference: Mapping | None = None
) -> dict:
    """Summarize per-image rows (from :func:`segmentation_metrics`) into the ``metrics.json`` dictionary.

    Args:
        rows: per-image dictionaries holding at least the :data:`PER_IMAGE_METRICS` and the pixel counts.
        threshold: recorded in the summary.
        paper_reference: the published figure this model reproduces (the reference dict of
            :mod:`monai_cbis.evaluation.references`, e.g. a bundle spec's ``published``), written under
            ``"paper_reference"``; None (the default) leaves the key out.

    Returns:
        dict: the flat headline means (``lesion_dice``, ``lesion_iou``, ``background_dice``, ``background_iou``,
        ``mean_dice_incl_background``, ``mean_iou_incl_background``, ``pixel_accuracy``; None when there are no
        images), ``median`` (the same names), ``per_metric`` (mean, median, std, min, max, n of each),
        ``lesion_dice_nonempty_label`` / ``lesion_iou_nonempty_label`` (means over images whose label has a lesion),
        ``pooled`` (lesion and background-inclusive scores from pixel counts summed over all images), the counts
        ``n_images``, ``n_empty_label``, ``n_empty_pred``, ``n_both_empty``, and ``threshold``, ``aggregation``,
        ``empty_mask_convention``, ``paper_reference``.

    Example:
        >>> rows = [segmentation_metrics(np.eye(3)[None], np.eye(3)[None]), segmentation_metrics(np.zeros((3, 3)),
        ...         np.zeros((3, 3)))]
        >>> s = summarize_segmentation(rows)
        >>> s["lesion_dice"], s["n_images"], s["n_both_empty"]
        (1.0, 2, 1)
    """
    rows = list(rows)
    per_metric = {k: _stats([r[k] for r in rows]) for k in PER_IMAGE_METRICS}
    nonempty = [r for r in rows if r["label_lesion_pixels"] > 0]
    summed = {k: sum(int(r[k]) for r in rows) for k in ("overlap_pixels", "label_lesion_pixels", "total_pixels")}
    summed["pred_lesion_pixels"] = sum(int(r["pred_lesion_pixels"]) for r in rows)
    pooled = _scores(
        summed["overlap_pixels"], summed["label_lesion_pixels"], summed["pred_lesion_pixels"], summed["total_pixels"]
    )
    out: dict = {k: per_metric[k]["mean"] for k in PER_IMAGE_METRICS}
    out.update(
        {
            "median": {k: per_metric[k]["median"] for k in PER_IMAGE_METRICS},
            "n_images": len(rows),
            "n_empty_label": sum(r["label_lesion_pixels"] == 0 for r in rows),
            "n_empty_pred": sum(r["pred_lesion_pixels"] == 0 for r in rows),
            "n_both_empty": sum(r["label_lesion_pixels"] == 0 and r["pred_lesion_pixels"] == 0 for r in rows),
            "lesion_dice_nonempty_label": _stats([r["lesion_dice"] for r in nonempty])["mean"],
            "lesion_iou_nonempty_label": _stats([r["lesion_iou"] for r in nonempty])["mean"],
            "n_nonempty_label": len(nonempty),
            "pooled": {k: pooled[k] for k in PER_IMAGE_METRICS} if rows else None,
            "per_metric": per_metric,
            "threshold": threshold,
            "aggregation": (
                "Top-level scores are means over images of per-image scores; 'median' holds the medians; 'pooled' "
                "scores come from pixel counts summed over all images."
            ),
            "empty_mask_convention": EMPTY_MASK_CONVENTION,
        }
    )
    if paper_reference is not None:
        out["paper_reference"] = dict(paper_reference)
    return out


def __getattr__(name: str):
    if name == "PAPER_REFERENCE_SEGMENTATION":  # the former table, now derived from the bundle specs
        from .references import deprecated_table

        return deprecated_table(__name__, name, "segmentation")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):  # torch.Tensor / MetaTensor
        x = x.as_tensor() if hasattr(x, "as_tensor") else x
        x = x.detach().cpu()
        return (x.float() if str(x.dtype) == "torch.bfloat16" else x).numpy()  # numpy has no bfloat16 (CPU AMP)
    return np.asarray(x)
