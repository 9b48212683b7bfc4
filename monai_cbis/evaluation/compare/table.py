"""Text renderers of the comparison rows: the Markdown of ``comparison.md`` and the document of ``comparison.json``.

Both take the rows of :func:`~.rows.comparison_rows` and compute nothing new; the notes that say what the published
figures mean (paper A averages in the background, paper B balanced its test set) live here, where they are shown.

Example:
    >>> print(render_markdown({"segmentation": [], "classification": []}).splitlines()[-1])
    No reports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..references import KINDS
from .collect import LESION_KEYS, SCORE_KEYS
from .rows import lesion_level_rows, mixed_geometries

__all__ = ["NOTES", "render_markdown", "render_json"]

#: Column title of each score (keys of ``metrics.json``); the order is :data:`~.collect.SCORE_KEYS`'.
_TITLES = {
    "n_images": "n images",
    "lesion_dice": "lesion Dice",
    "lesion_iou": "lesion IoU",
    "mean_dice_incl_background": "Dice incl. background",
    "mean_iou_incl_background": "IoU incl. background",
    "pixel_accuracy": "pixel accuracy",
    "n_cases": "n cases",
    "accuracy": "accuracy",
    "majority_baseline_accuracy": "majority baseline",
    "balanced_accuracy": "balanced accuracy",
    "roc_auc": "AUC",
    "sensitivity": "sensitivity",
    "specificity": "specificity",
    "froc_mean_sensitivity": "FROC mean sensitivity",
    "sensitivity_at_0.5fp": "sensitivity at 0.5 FP/image",
    "sensitivity_at_1fp": "sensitivity at 1 FP/image",
    "map_at_iou_0.1": "mAP@0.1",
    "map_at_iou_0.5": "mAP@0.5",
}

_HEADER = (
    "Scores are fractions in [0, 1] with 4 decimals (a published 77.39 % is written 0.7739); n/a: undefined or "
    "absent (e.g. the AUC of a test set with one class)."
)
_PAPER_NOTE = (
    "Columns headed *paper* are published numbers from the seed papers, **not results of this run**. They come from "
    "other data, splits and pre-processing: read them as context, not as a 1:1 comparison."
)
_SEG_NOTE = (
    "Paper A (full mammograms at 224 x 224) almost certainly averages in the background class: its figure compares "
    "with *Dice / IoU incl. background*, not with the lesion scores. Paper B (512 x 512 ROI crops) reports lesion "
    "Dice / IoU. The lesion scores are this project's headline."
)
_CLS_NOTE = (
    "*majority baseline*: the accuracy of always answering the test set's majority class (benign in CBIS-DDSM), "
    "beside the accuracy: a model near it learned little. Sensitivity / specificity are for the malignant class at "
    "the handler's threshold. Paper B balanced its classes by augmentation before splitting into training and test "
    "sets (by its own account), so its accuracies are on a near 50/50 test set; *from scratch* are its accuracies "
    "without ImageNet weights (ViT-B/16: pretrained only)."
)
_LESION_NOTE = (
    "*Lesion level*: every localising model on one scale, lesions found against false marks per image. A "
    "segmenter's marks are the connected components of its predicted mask, scored by their highest probability; a "
    "mark finds a lesion when its box overlaps the lesion's box with IoU >= 0.1 (each report states its criterion "
    "under lesion_level.hit_criterion). *FROC mean*: the mean sensitivity at 0.125, 0.25, 0.5, 1, 2 and 4 false "
    "positives per image; images without lesions count their false marks. mAP through MONAI's COCOMetric, one "
    "lesion class. The *published reference* column holds figures from other models, data and splits (see each)."
)
_GEOMETRY_NOTE = (
    "*geometry*: the pixels a segmenter's or detector's scores were computed on (metrics.json's geometry): "
    "*working*, the bundle's own grid (224 x 224 for paper A, the downsampled breast crop for unet_highres), or "
    "*original*, the film's own pixels (the evaluate config's --eval_geometry original); - : not recorded (reports "
    "written before it was, and detectors). Scores of different geometries are not comparable: a lesion lost on a "
    "coarse working grid counts as missed there and as found on the film."
)
#: The notes under the tables (Markdown emphasis), also written, plain, as ``note`` in ``comparison.json``.
NOTES = {
    "paper": _PAPER_NOTE,
    "geometry": _GEOMETRY_NOTE,
    "segmentation": _SEG_NOTE,
    "classification": _CLS_NOTE,
    "detection": _LESION_NOTE,
}

# Per kind: the table's section title and the titles of the paper columns after the scores.
_PAPER_COLUMNS = {
    "segmentation": ("Segmentation", ("paper Dice / IoU", "paper figure compares with")),
    "classification": ("Classification", ("paper accuracy, pretrained", "paper accuracy, from scratch")),
}
#: The lesion-level table: its title and its reference columns.
_LESION_TITLE, _LESION_PAPER = (
    "Lesion level (segmenters and detectors on one scale)",
    (
        "published reference (not this run)",
        "reference setting",
    ),
)


def _num(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return str(v) if isinstance(v, int) else f"{v:.4f}"


def _geometry_cell(row: Mapping) -> str:
    return row.get("geometry") or "-"


def _mix_warning(table: str, mix: Mapping[str, Sequence[str]] | None) -> list[str]:
    """The warning line under a table whose rows were scored at different geometries (nothing when they agree)."""
    if not mix:
        return []
    groups = "; ".join(f"{geometry}: {', '.join(labels)}" for geometry, labels in mix.items())
    return [
        "",
        f"**Warning: the {table} table mixes geometries** ({groups}). Its scores were computed on different pixels "
        "and are not comparable row to row: compare rows of one geometry (the full-film segmenters' evaluate.json "
        "takes --eval_geometry working or original).",
    ]


def _cell(text) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return lines + ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]


def _figures(figures: Mapping) -> str:
    """Published numbers in the reference's order, ``" / "`` between them (Dice / IoU)."""
    return " / ".join(_num(v) for v in figures.values())


def _paper_cells(kind: str, p: Mapping | None) -> list[str]:
    if p is None:
        return ["", ""]
    published = f"{_figures(p['figures'])} (paper {p['paper']})"
    if kind == "segmentation":
        return [published, p["metric"]]
    return [published, _figures(p["figures_from_scratch"])]


def _lesion_paper_cells(kind: str, p: Mapping | None) -> list[str]:
    """A detector's published anchors: each figure named by its column, then the source and setting."""
    if kind != "detection" or p is None:
        return ["", ""]
    named = ", ".join(f"{_TITLES.get(k, k)} {_num(v)}" for k, v in p["figures"].items())
    return [f"{named} ({p['paper']})", p["setting"] or p["metric"]]


def _lesion_table(rows: Mapping[str, Sequence[Mapping]]) -> list[str]:
    """Segmenters with a lesion level, then detectors: the lesion-level scores and the detectors' anchors."""
    pairs = lesion_level_rows(rows)
    if not pairs:
        return []
    header = ["model", "kind", "geometry", "n images", *(_TITLES[k] for k in LESION_KEYS), *_LESION_PAPER, "source"]
    body = [
        [r["label"], k, _geometry_cell(r), _num(r.get("n_images"))] + [_num(r.get(key)) for key in LESION_KEYS]
        + _lesion_paper_cells(k, r["paper"]) + [r["source"]]
        for k, r in pairs
    ]  # fmt: skip
    warning = _mix_warning("lesion-level", mixed_geometries(rows)["lesion_level"])
    return ["", f"## {_LESION_TITLE}", "", *_table(header, body), *warning, "", _LESION_NOTE]


def _score_cell(row: Mapping, key: str) -> str:
    cell = _num(row[key])
    if key == "majority_baseline_accuracy" and row[key] is not None and row.get("majority_class"):
        cell += f" (all {row['majority_class']})"
    return cell


def _kind_table(kind: str, rows: Sequence[Mapping]) -> list[str]:
    # pixel accuracy only when some report has it (older segmentation reports do not)
    keys = [k for k in SCORE_KEYS[kind] if k != "pixel_accuracy" or any(r[k] is not None for r in rows)]
    with_data = any(r["data"] for r in rows)
    geometry = kind != "classification"
    header = ["model"] + (["data"] if with_data else []) + (["geometry"] if geometry else [])
    header += [_TITLES[k] for k in keys] + [*_PAPER_COLUMNS[kind][1], "source"]
    body = [
        [r["label"]]
        + ([r["data"] or ""] if with_data else [])
        + ([_geometry_cell(r)] if geometry else [])
        + [_score_cell(r, k) for k in keys]
        + _paper_cells(kind, r["paper"])
        + [r["source"]]
        for r in rows
    ]
    warning = _mix_warning(kind, mixed_geometries({kind: rows})[kind]) if geometry else []
    return _table(header, body) + warning


def render_markdown(rows: Mapping[str, Sequence[Mapping]]) -> str:
    """The Markdown of ``comparison.md`` from the rows: a header, the segmentation and classification tables, the
    lesion-level table (segmenters with a lesion level and detectors, beside the detectors' published anchors), and
    the notes.

    Args:
        rows: ``{"segmentation": [...], "classification": [...], "detection": [...]}`` from
            :func:`~.rows.comparison_rows` (or read back from ``comparison.json``: the same rows give the same
            Markdown).

    Example:
        >>> print(render_markdown({"segmentation": [], "classification": []}).splitlines()[0])
        # Model comparison
    """
    lines = ["# Model comparison", "", _HEADER, "", _PAPER_NOTE]
    if rows.get("segmentation") or rows.get("detection"):
        lines += ["", _GEOMETRY_NOTE]
    for kind in _PAPER_COLUMNS:
        if rows.get(kind):
            lines += ["", f"## {_PAPER_COLUMNS[kind][0]}", "", *_kind_table(kind, rows[kind]), "", NOTES[kind]]
    lines += _lesion_table(rows)
    if not any(rows.get(kind) for kind in KINDS):
        lines += ["", "No reports."]
    return "\n".join(lines) + "\n"


def render_json(rows: Mapping[str, Sequence[Mapping]], files: Mapping[str, str]) -> dict:
    """The document of ``comparison.json``: ``note`` and ``number_format``, the rows per kind, ``mixed_geometry``
    (:func:`~.rows.mixed_geometries`: per table, None or the rows' labels by geometry when they differ) and
    ``files``.

    Example:
        >>> doc = render_json({"segmentation": [], "classification": []}, {"markdown": "comparison.md"})
        >>> list(doc)
        ['note', 'number_format', 'segmentation', 'classification', 'detection', 'mixed_geometry', 'files']
    """
    return {
        "note": " ".join(NOTES[k] for k in ("paper", "geometry", *KINDS)).replace("*", ""),
        "number_format": "fractions in [0, 1]; the Markdown rounds to 4 decimals, this file does not",
        **{kind: list(rows.get(kind, [])) for kind in KINDS},
        "mixed_geometry": mixed_geometries(rows),
        "files": dict(files),
    }
