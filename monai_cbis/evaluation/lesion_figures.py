"""Figures of the lesion-level report: the FROC curve and an image with its ground-truth and predicted boxes.

Same rules as :mod:`.figures` (no pyplot; saved atomically with :func:`~.figures.save_png`). Boxes are MONAI's 2-D
``xyxy`` over the array's spatial axes 0 and 1; with the project's ``(C, W, H)`` arrays (``transpose=True``) axis 0
is the image's x (columns), so a box ``[x0, y0, x1, y1]`` is drawn from column x0, row y0.

Example:
    >>> fig = froc_figure([0.0, 0.5, 1.0], [0.0, 0.5, 0.75], [0.125, 1.0], [0.2, 0.75], "unet_effb3")
    >>> [int(v) for v in fig.get_size_inches() * fig.dpi]
    [640, 480]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .figures import LABEL_COLOR, PRED_COLOR, _grey

__all__ = ["froc_figure", "box_overlay_figure"]


def froc_figure(
    fp_per_image: Sequence[float],
    sensitivity: Sequence[float | None],
    fp_rates: Sequence[float],
    sensitivity_at: Sequence[float | None],
    title: str = "",
    ci: Sequence[tuple[float | None, float | None]] | None = None,
    subtitle: str = "",
    dpi: int = 100,
) -> Figure:
    """The FROC curve (sensitivity against false positives per image, log x axis), with the reported points.

    Args:
        fp_per_image, sensitivity: the curve's points (:func:`~.froc.froc_points`).
        fp_rates, sensitivity_at: the reported points (marked and labelled).
        title: the model's name or the report's title; subtitle: a second line (e.g. the hit criterion).
        ci: optional ``(low, high)`` per reported point: drawn as error bars.
        dpi: figure dpi; the PNG is 640 x 480 pixels.
    """
    fig = Figure(figsize=(6.4, 4.8), dpi=dpi)  # fixed margins: a constrained layout doubles the saving time
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.11, top=0.86)
    ax = fig.add_subplot(1, 1, 1)
    x = np.asarray(fp_per_image, np.float64)
    y = np.asarray([np.nan if s is None else s for s in sensitivity], np.float64)
    lo_x = min(fp_rates) / 2
    if x.size:  # a step curve: the sensitivity holds until the next threshold adds false positives
        xs = np.concatenate([[lo_x], np.maximum(x[1:], lo_x), [max(max(fp_rates) * 2, x[-1] * 1.05, lo_x)]])
        ys = np.concatenate([[y[0]], y[1:], [y[-1]]])
        ax.step(xs, ys, where="post", color="#1f77b4", label="FROC")
    pts = [(r, s) for r, s in zip(fp_rates, sensitivity_at, strict=True) if s is not None]
    if pts:
        rx, ry = zip(*pts, strict=True)
        if ci is not None:
            # a percentile interval need not hold its estimate (a skewed resampling distribution): clip at 0
            lows = [max(s - (c[0] if c[0] is not None else s), 0.0) for (_, s), c in zip(pts, ci, strict=False)]
            highs = [max((c[1] if c[1] is not None else s) - s, 0.0) for (_, s), c in zip(pts, ci, strict=False)]
            ax.errorbar(rx, ry, yerr=[lows, highs], fmt="o", color="#d62728", capsize=3, label="95 % CI (by woman)")
        else:
            ax.plot(rx, ry, "o", color="#d62728")
        for r, s in pts:
            ax.annotate(f"{s:.2f}", (r, s), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xlim(lo_x, max(fp_rates) * 2)
    ax.set_xticks(list(fp_rates), [f"{r:g}" for r in fp_rates])
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("false positives per image")
    ax.set_ylabel("lesion sensitivity")
    ax.grid(alpha=0.3)
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=9)
    if ci is not None or x.size:
        ax.legend(loc="lower right", fontsize=8)
    return fig


def _rect(ax, box, transpose: bool, color: str, style: str) -> None:
    b = [float(v) for v in box]
    x0, y0, x1, y1 = (b[0], b[1], b[2], b[3]) if transpose else (b[1], b[0], b[3], b[2])
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=color, linewidth=1.4,
                           linestyle=style))  # fmt: skip


def box_overlay_figure(
    image,
    gt_boxes,
    pred_boxes,
    pred_scores,
    title: str = "",
    panel_px: int = 512,
    title_px: int = 30,
    dpi: int = 100,
    transpose: bool = True,
    max_boxes: int = 10,
) -> Figure:
    """The image with ground-truth boxes (green, solid) and predicted boxes (red, dashed) with their scores.

    Args:
        image: ``(C, W, H)`` or ``(W, H)`` (grey, 1-99 percentile window; a blank image is fine).
        gt_boxes, pred_boxes: ``(N, 4)`` boxes ``xyxy`` over spatial axes 0 and 1.
        pred_scores: ``(D,)`` scores, printed above each predicted box.
        title: header text (case name, lesions found).
        panel_px, title_px, dpi: the PNG is ``panel_px`` wide and ``panel_px + title_px`` high.
        transpose: arrays are ``(W, H)`` (the project convention); False for ``(H, W)``.
        max_boxes: draw at most this many predicted boxes (the highest scores).

    Example:
        >>> fig = box_overlay_figure(np.zeros((16, 16)), [[2, 2, 6, 6]], [[3, 3, 7, 7]], [0.8], panel_px=100)
        >>> [int(v) for v in fig.get_size_inches() * fig.dpi]
        [100, 130]
    """
    grey = _grey(image, transpose)
    h = panel_px + title_px
    fig = Figure(figsize=(panel_px / dpi, h / dpi), dpi=dpi, facecolor="black")
    fig.text(0.5, 1 - 0.5 * title_px / h, title, ha="center", va="center", color="white", fontsize=8)
    ax = fig.add_axes((0, 0, 1, panel_px / h))
    ax.imshow(grey, cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    for b in np.asarray(gt_boxes, np.float64).reshape(-1, 4):
        _rect(ax, b, transpose, LABEL_COLOR, "solid")
    scores = np.asarray(pred_scores, np.float64).reshape(-1)
    boxes = np.asarray(pred_boxes, np.float64).reshape(-1, 4)
    for i in np.argsort(-scores, kind="stable")[:max_boxes]:
        _rect(ax, boxes[i], transpose, PRED_COLOR, "dashed")
        x0, y0 = (boxes[i][0], boxes[i][1]) if transpose else (boxes[i][1], boxes[i][0])
        ax.text(x0, y0 - 1, f"{scores[i]:.2f}", color=PRED_COLOR, fontsize=7, va="bottom", ha="left",
                bbox={"facecolor": "black", "alpha": 0.5, "pad": 0.5, "edgecolor": "none"})  # fmt: skip
    ax.set_xlim(-0.5, grey.shape[1] - 0.5)
    ax.set_ylim(grey.shape[0] - 0.5, -0.5)
    ax.set_axis_off()
    return fig
