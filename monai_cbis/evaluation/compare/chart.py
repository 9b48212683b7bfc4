"""The chart of ``comparison.png``: grouped bars per model drawn from the comparison rows (matplotlib, no pyplot).

:func:`render_figure` takes the rows of :func:`~.rows.comparison_rows`, like the Markdown and JSON renderers, and
puts this run's headline scores beside the published figure (hatched, marked with its paper).

Example:
    >>> render_figure({"segmentation": [], "classification": []})
    Traceback (most recent call last):
    ...
    ValueError: No reports to compare: pass at least one evaluation folder, bundle folder or metrics.json.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ..references import KINDS
from .rows import UNKNOWN_GEOMETRY, geometry_mix

__all__ = ["NO_REPORTS", "render_figure"]

NO_REPORTS = "No reports to compare: pass at least one evaluation folder, bundle folder or metrics.json."

# Per kind: the panel's title, this run's two series (legend, row key, colour), the published series' legend and the
# figure it draws (the first published number whose metrics.json key contains this word).
_PANELS = {
    "segmentation": (
        "Segmentation: this run vs the published Dice (not a result of this run)",
        (("lesion Dice (headline)", "lesion_dice", "#1f77b4"), ("Dice incl. background", "mean_dice_incl_background",
                                                                "#9ecae1")),
        "published Dice (A: incl. background, B: lesion)",
        "dice",
    ),
    "classification": (
        "Classification: this run vs the published accuracy (not a result of this run)",
        (("accuracy", "accuracy", "#d62728"), ("majority-class baseline", "majority_baseline_accuracy", "#fcbba1")),
        "published accuracy, pretrained (paper B)",
        "accuracy",
    ),
    "lesion": (
        "Lesion level: segmenters and detectors on one scale (published: other models and data)",
        (("FROC mean sensitivity", "froc_mean_sensitivity", "#2ca02c"),
         ("sensitivity at 1 FP/image", "sensitivity_at_1fp", "#98df8a"), ("mAP@0.5", "map_at_iou_0.5", "#9467bd")),
        "published mAP@0.5 (detectors)",
        "map_at_iou_0.5",
    ),
}  # fmt: skip


def _published(paper: Mapping | None, word: str) -> float | None:
    if paper is None:
        return None
    return next((v for k, v in paper["figures"].items() if word in k), None)


def _bars(ax, labels: Sequence[str], series: Sequence[tuple], title: str) -> None:
    """Grouped bars: ``series`` = (legend label, values (None: missing), colour, hatch, value prefixes)."""
    x = np.arange(len(labels), dtype=np.float64)
    width = 0.8 / len(series)
    for i, (name, values, color, hatch, prefixes) in enumerate(series):
        pos = x - 0.4 + width * (i + 0.5)
        heights = [0.0 if v is None else float(v) for v in values]
        ax.bar(pos, heights, width * 0.95, label=name, color=color, hatch=hatch, edgecolor="black", linewidth=0.5)
        for xp, v, prefix in zip(pos, values, prefixes, strict=True):
            if v is not None:
                ax.text(xp, float(v) + 0.01, f"{prefix}{float(v):.4f}", ha="center", va="bottom", fontsize=6.5)
            elif prefix is not None:  # a model score that is undefined; an unknown paper figure stays blank
                ax.text(xp, 0.01, "n/a", ha="center", va="bottom", fontsize=6.5)
    long_names = len(labels) > 3 or sum(len(s) for s in labels) > 60  # e.g. three "<arch>_classification" names
    tilt = {"rotation": 20, "ha": "right", "rotation_mode": "anchor"} if long_names else {}
    ax.set_xticks(x, labels, **tilt)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylim(0, 1.25)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper center", ncol=len(series), fontsize=7.5, frameon=False)


def _panel_rows(rows: Mapping[str, Sequence[Mapping]]) -> list[tuple[str, list]]:
    """``(panel, rows)`` per panel drawn: one per kind table, and the lesion level of segmenters and detectors."""
    panels = [(k, list(rows[k])) for k in ("segmentation", "classification") if rows.get(k)]
    lesion = [r for r in rows.get("segmentation", ()) if r.get("froc_mean_sensitivity") is not None]
    lesion += list(rows.get("detection", ()))
    return panels + ([("lesion", lesion)] if lesion else [])


def _tick_labels(rs: Sequence[Mapping]) -> list[str]:
    """The rows' labels; each with its geometry below it when the panel's rows were scored at different ones (the
    tables' rule, :func:`~.rows.geometry_mix`)."""
    if geometry_mix(rs) is None:
        return [r["label"] for r in rs]
    return [f"{r['label']}\n({r.get('geometry') or UNKNOWN_GEOMETRY} geometry)" for r in rs]


def render_figure(rows: Mapping[str, Sequence[Mapping]], dpi: int = 100) -> Figure:
    """Grouped bars per model: this run's headline scores next to the published figure (hatched).

    Segmentation panel: lesion Dice, Dice incl. background, published Dice (paper A compares with the second, paper
    B with the first). Classification panel: accuracy, majority-class baseline, published accuracy (pretrained).
    Lesion-level panel (segmenters with a lesion level, and detectors): FROC mean sensitivity, sensitivity at 1
    false positive per image, mAP@0.5, and a detector's published mAP@0.5. One panel each, stacked; the width grows
    with the number of models. When a panel's rows were scored at different geometries, each label names its own.

    Args:
        rows: ``{"segmentation": [...], "classification": [...], "detection": [...]}`` from
            :func:`~.rows.comparison_rows`.
        dpi: resolution of the figure.

    Raises:
        ValueError: no rows.
    """
    if not any(rows.get(k) for k in KINDS):
        raise ValueError(NO_REPORTS)
    panels = _panel_rows(rows)
    n = max(len(rs) for _, rs in panels)
    fig = Figure(figsize=(max(6.5, 1.8 + 1.4 * n), 4.3 * len(panels)), dpi=dpi, layout="constrained")
    for i, (kind, rs) in enumerate(panels):
        ax = fig.add_subplot(len(panels), 1, i + 1)
        title, own_series, published_label, word = _PANELS[kind]
        own = [""] * len(rs)
        series = [(name, [r.get(key) for r in rs], color, None, own) for name, key, color in own_series]
        published = [_published(r["paper"], word) for r in rs]
        papers = [r["paper"] if v is not None else None for r, v in zip(rs, published, strict=True)]
        prefixes = [f"{p['paper']} " if p else None for p in papers]  # a figure the paper lacks stays blank
        series.append((published_label, published, "#d9d9d9", "//", prefixes))
        _bars(ax, _tick_labels(rs), series, title)
    return fig
