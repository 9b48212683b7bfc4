"""The comparison as data: one row per report, computed once, that every renderer takes.

:func:`comparison_rows` is the only place that decides what a row holds (identity, source folder, scores, published
reference, the geometry it was scored at); the Markdown and JSON renderers (:mod:`.table`) and the chart
(:mod:`.chart`) only format rows. :func:`mixed_geometries` reads the rows (also when read back from
``comparison.json``) and says which tables put scores of different geometries side by side.

Example:
    >>> comparison_rows([])
    {'segmentation': [], 'classification': [], 'detection': []}
    >>> seg = [{"label": "unet_effb3", "geometry": "working", "froc_mean_sensitivity": 0.5},
    ...        {"label": "unet_highres", "geometry": "original", "froc_mean_sensitivity": 0.6}]
    >>> mixed_geometries({"segmentation": seg})["lesion_level"]
    {'working': ['unet_effb3'], 'original': ['unet_highres']}
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from ..references import KINDS, paper_reference
from ..reports import json_ready, number_repeats
from .collect import LESION_KEYS, SCORE_KEYS, ReportEntry

__all__ = ["comparison_rows", "mixed_geometries", "geometry_mix", "lesion_level_rows", "UNKNOWN_GEOMETRY"]

#: A report that does not record where it was scored (written before ``geometry`` was, or by a detector's handler).
UNKNOWN_GEOMETRY = "unknown"


def _display_path(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if rel == ".." or rel.startswith(".." + os.sep) else rel


def _labels(entries: Sequence[ReportEntry]) -> list[str]:
    """Model names, told apart by their evaluation folder (then a number) when a model appears more than once."""
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.model] = counts.get(e.model, 0) + 1
    labels = [e.model if counts[e.model] == 1 else f"{e.model} ({os.path.basename(e.eval_dir)})" for e in entries]
    return number_repeats(labels, " #")


def _geometry(value) -> str | None:
    """``metrics.json``'s ``geometry`` (``"working"`` / ``"original"``), or None when absent or not text."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def comparison_rows(entries: Sequence[ReportEntry]) -> dict:
    """The comparison as data: ``{"segmentation": [row, ...], "classification": [row, ...], "detection": [...]}``.

    Each row holds ``model``, ``label`` (unique: the model, plus its evaluation folder when a model appears twice),
    ``data``, ``source`` (the evaluation folder as shown: relative to the current folder when inside it),
    ``eval_dir`` / ``metrics_path`` (absolute), ``model_from``, ``bundle_dir``, ``bundle_title``, ``epoch``, the
    scores of :data:`~.collect.SCORE_KEYS` (None when absent), and ``paper``: the published reference
    (:func:`~monai_cbis.evaluation.references.paper_reference`: the report's own, else its bundle spec's; None for
    an unknown model). Classification rows add ``majority_class``; segmentation and detection rows hold the
    lesion-level scores of :data:`~.collect.LESION_KEYS` (None for a report without a lesion level) and
    ``geometry``: where the report scored (``metrics.json``'s ``"geometry"``: ``"working"``, the bundle's own
    grid, or ``"original"``, the film's pixels; None when the report does not say). Rows are JSON-ready (plain
    types).

    Example:
        >>> rows = comparison_rows(collect_reports(["bundles/unet_roi"]))  # doctest: +SKIP
        >>> rows["segmentation"][0]["paper"]["figures"]  # doctest: +SKIP
        {'lesion_dice': 0.8402, 'lesion_iou': 0.7246}
    """
    out: dict = {k: [] for k in KINDS}
    for e, label in zip(entries, _labels(entries), strict=True):
        row = {
            "model": e.model,
            "label": label,
            "data": e.data,
            "source": _display_path(e.eval_dir),
            "eval_dir": e.eval_dir,
            "metrics_path": e.metrics_path,
            "model_from": e.model_from,
            "bundle_dir": e.bundle_dir,
            "bundle_title": e.bundle_title,
            "epoch": e.metrics.get("epoch"),
        }
        row.update({key: e.metrics.get(key) for key in SCORE_KEYS[e.kind]})
        if e.kind != "classification":
            row.update({key: e.metrics.get(key) for key in LESION_KEYS})
            row["geometry"] = _geometry(e.metrics.get("geometry"))
        if e.kind == "classification":
            row["majority_class"] = e.metrics.get("majority_class")
        row["paper"] = paper_reference(e.model, e.kind, e.metrics)
        out[e.kind].append(json_ready(row))
    return out


def lesion_level_rows(rows: Mapping[str, Sequence[Mapping]]) -> list[tuple[str, Mapping]]:
    """``(kind, row)`` of the lesion-level table: segmenters with a lesion level, then detectors."""
    return [(k, r) for k in ("segmentation", "detection") for r in rows.get(k, ()) if r.get(LESION_KEYS[0]) is not None]


def geometry_mix(rows: Sequence[Mapping]) -> dict[str, list[str]] | None:
    """``{geometry: [row labels]}`` of ``rows`` when they record at least two different geometries, else None (see
    :func:`mixed_geometries`): the one rule of the tables' warning and the chart's labels."""
    by_geometry: dict[str, list[str]] = {}
    for r in rows:
        by_geometry.setdefault(r.get("geometry") or UNKNOWN_GEOMETRY, []).append(r["label"])
    recorded = [g for g in by_geometry if g != UNKNOWN_GEOMETRY]
    return by_geometry if len(recorded) > 1 else None  # reports that record none (detectors, older runs) never do


def mixed_geometries(rows: Mapping[str, Sequence[Mapping]]) -> dict:
    """Which tables put scores computed at different geometries side by side.

    Returns:
        ``{"segmentation": mix, "lesion_level": mix}``: ``mix`` is None unless the rows of that table record at
        least two different geometries (a report without one, such as a detector's, which scores on its working
        grid, or one written before the field existed, does not make a mix on its own); else ``{geometry: [row
        labels]}`` in row order, the reports without a ``geometry`` under :data:`UNKNOWN_GEOMETRY`.
    """
    return {
        "segmentation": geometry_mix(rows.get("segmentation", ())),
        "lesion_level": geometry_mix([r for _, r in lesion_level_rows(rows)]),
    }
