"""Figures for the reports: overlay panels (paper A's figure 11), training curves, ROC curve, confusion matrix.

Built on :class:`matplotlib.figure.Figure` directly (no pyplot, no global backend state; PNG goes through Agg), and
saved with :func:`save_png`, which writes atomically. Pixel sizes are exact: no tight bounding box.

Arrays follow the project's 2-D convention ``(C, W, H)`` (spatial axis 0 = x = columns, see
:mod:`monai_cbis.transforms`); :func:`overlay_figure` transposes to ``(rows, columns)`` for display unless told the
arrays are already ``(H, W)``.

Example:
    >>> import numpy as np
    >>> m = np.zeros((1, 32, 32)); m[0, 8:16, 8:16] = 1
    >>> save_png(overlay_figure(np.random.rand(1, 32, 32), m, m, title="case"), "/tmp/o.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from ..atomic import atomic_write

__all__ = [
    "LABEL_COLOR",
    "PRED_COLOR",
    "save_png",
    "overlay_figure",
    "training_curves_figure",
    "roc_figure",
    "confusion_figure",
]

LABEL_COLOR = "#2ca02c"  # ground truth: green
PRED_COLOR = "#d62728"  # prediction: red


def save_png(fig: Figure, path: str | os.PathLike) -> str:
    """Save ``fig`` as PNG at ``path`` atomically (the figure's own size and dpi). Returns the path."""
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=fig.dpi), mode="wb")


def _grey(image, transpose: bool) -> np.ndarray:
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3:
        a = a.mean(axis=0)  # (C, W, H): one grey channel (RGB-replicated inputs are equal channels)
    if a.ndim != 2:
        raise ValueError(f"Overlay expects a 2-D image (C, W, H) or (W, H), got shape {tuple(np.shape(image))}.")
    a = a.T if transpose else a
    lo, hi = np.percentile(a, (1, 99)) if a.size else (0.0, 0.0)
    if hi <= lo:
        lo, hi = float(a.min(initial=0.0)), float(a.max(initial=0.0))
    return np.clip((a - lo) / (hi - lo), 0, 1) if hi > lo else np.zeros_like(a)


def _mask2d(mask, transpose: bool, shape: tuple, name: str) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m[-1]  # (1, ...) lesion or (2, ...) background, lesion
    m = (m.T if transpose else m).astype(bool)
    if m.shape != shape:
        raise ValueError(f"Overlay {name} has display shape {m.shape}, the image {shape}; they must match.")
    return m


def _draw_mask(ax, mask: np.ndarray, color: str, fill: bool, linestyle: str = "solid") -> None:
    if fill and mask.any():
        ax.imshow(np.ma.masked_where(~mask, mask), cmap=ListedColormap([color]), alpha=0.35, vmin=0, vmax=1)
    if mask.any() and not mask.all():  # contour of a constant mask has no level: skip (matplotlib would warn)
        ax.contour(mask.astype(np.float32), levels=[0.5], colors=[color], linewidths=1.2, linestyles=linestyle)


def overlay_figure(
    image,
    label,
    pred,
    title: str = "",
    panel_px: int = 256,
    title_px: int = 40,
    dpi: int = 100,
    transpose: bool = True,
) -> Figure:
    """Three panels: image | ground truth (green) | prediction (red fill, ground-truth contour dashed in green).

    Args:
        image: ``(C, W, H)`` or ``(W, H)``; channels are averaged to grey and shown with a 1-99 percentile window.
        label: binary lesion mask, ``(W, H)``, ``(1, W, H)`` or ``(2, W, H)`` (last channel = lesion).
        pred: binary lesion mask, same layout.
        title: first line of the header (e.g. case name and its Dice).
        panel_px: width and height of each panel in pixels; the PNG is ``3 * panel_px`` x ``panel_px + title_px``.
        title_px: height of the header band (title and panel names).
        dpi: figure dpi (sizes in pixels do not depend on it).
        transpose: arrays are ``(W, H)`` (the project convention); False for ``(H, W)``.

    Example:
        >>> fig = overlay_figure(np.zeros((8, 8)), np.eye(8), np.eye(8), panel_px=100, title_px=20)
        >>> [int(v) for v in fig.get_size_inches() * fig.dpi]
        [300, 120]
    """
    grey = _grey(image, transpose)
    lab = _mask2d(label, transpose, grey.shape, "label")
    prd = _mask2d(pred, transpose, grey.shape, "prediction")
    w, h = 3 * panel_px, panel_px + title_px
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi, facecolor="black")
    frac = panel_px / h
    fig.text(0.5, 1 - 0.25 * title_px / h, title, ha="center", va="center", color="white", fontsize=9)
    for i, (name, masks) in enumerate(
        (("image", ()), ("ground truth", ((lab, LABEL_COLOR, True, "solid"),)),
         ("prediction", ((prd, PRED_COLOR, True, "solid"), (lab, LABEL_COLOR, False, "dashed"))))
    ):  # fmt: skip
        ax = fig.add_axes((i / 3, 0, 1 / 3, frac))
        ax.imshow(grey, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        for m, color, fill, style in masks:
            _draw_mask(ax, m, color, fill, style)
        ax.set_axis_off()
        fig.text((i + 0.5) / 3, 1 - 0.75 * title_px / h, name, ha="center", va="center", color="white", fontsize=8)
    return fig


def training_curves_figure(
    history: Sequence[Mapping], loss_key: str = "train_loss", metric_names: Sequence[str] = (), dpi: int = 100
) -> Figure:
    """Two panels over epochs: training loss (left) and validation metrics (right), 1000 x 400 px.

    Args:
        history: one mapping per epoch with ``"epoch"`` and the values (None or missing = not measured that epoch).
        loss_key: the loss column.
        metric_names: the metric columns to draw on the right.

    Example:
        >>> rows = [{"epoch": 1, "train_loss": 0.7, "val_mean_dice": 0.4}]
        >>> len(training_curves_figure(rows, metric_names=["val_mean_dice"]).axes)
        2
    """
    fig = Figure(figsize=(10, 4), dpi=dpi)
    ax_loss, ax_metric = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for ax, keys, title in ((ax_loss, [loss_key], "training loss"), (ax_metric, list(metric_names), "metrics")):
        drawn = False
        for k in keys:
            pts = [(r["epoch"], r[k]) for r in history if r.get(k) is not None]
            if pts:
                x, y = zip(*pts, strict=True)
                ax.plot(x, y, marker="o", markersize=3, label=k)
                drawn = True
        if drawn:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "no values yet", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    fig.subplots_adjust(left=0.07, right=0.98, wspace=0.2, bottom=0.13)
    return fig


def roc_figure(
    fpr: Sequence[float], tpr: Sequence[float], auc: float | None, operating_point=None, dpi: int = 100
) -> Figure:
    """ROC curve with the chance diagonal, 500 x 500 px.

    Args:
        fpr, tpr: curve points (:func:`monai_cbis.evaluation.roc_curve`).
        auc: area under the curve for the legend (None: undefined, one class only).
        operating_point: ``(1 - specificity, sensitivity)`` at the decision threshold, marked; None to skip.

    Example:
        >>> len(roc_figure([0, 0, 1], [0, 1, 1], 1.0).axes)
        1
    """
    fig = Figure(figsize=(5, 5), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="chance")
    ax.plot(fpr, tpr, color=PRED_COLOR, linewidth=1.8, label=f"ROC (AUC = {auc:.3f})" if auc is not None else "ROC")
    if operating_point is not None and None not in operating_point:
        ax.plot(*operating_point, "o", color="black", label="threshold")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("1 - specificity (false positive rate)")
    ax.set_ylabel("sensitivity (true positive rate)")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def confusion_figure(cm, class_names: Sequence[str] = ("benign", "malignant"), dpi: int = 100) -> Figure:
    """Confusion matrix (rows true, columns predicted) with counts and row percentages, 450 x 400 px.

    Example:
        >>> len(confusion_figure([[5, 1], [2, 4]]).axes)
        1
    """
    m = np.asarray(cm, dtype=np.int64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(class_names):
        raise ValueError(f"Confusion matrix of shape {m.shape} does not match class names {list(class_names)}.")
    fig = Figure(figsize=(4.5, 4), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    rows = m.sum(axis=1, keepdims=True)
    frac = np.divide(m, rows, out=np.zeros(m.shape, dtype=np.float64), where=rows > 0)
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, f"{v}\n{100 * frac[i, j]:.0f} %", ha="center", va="center",
                color="white" if frac[i, j] > 0.5 else "black")  # fmt: skip
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names)
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.subplots_adjust(left=0.2, bottom=0.15)
    return fig
