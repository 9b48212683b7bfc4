"""One table for all models: read the ``metrics.json`` of several evaluations and compare them with the papers.

``python -m monai_cbis report PATH [PATH ...]`` (see docs/report.md) runs these steps, one module each:

* :mod:`.collect`: find the ``metrics.json`` files behind the paths and read them (:func:`collect_reports` ->
  :class:`ReportEntry`);
* :mod:`.rows`: :func:`comparison_rows`, the comparison as data, computed once, with each model's published reference
  (:func:`~monai_cbis.evaluation.references.paper_reference`: its report's own, else its bundle spec's);
* :mod:`.table` and :mod:`.chart`: renderers that take the rows (Markdown, the JSON document, the matplotlib chart);
* :mod:`.write`: :func:`write_comparison` writes ``comparison.md``, ``.json`` and ``.png`` from one set of rows.

Published numbers are not results of this run: they come from other data, splits and pre-processing. Paper A's
Dice / IoU almost certainly average in the background class, so they sit beside ``Dice / IoU incl. background``.

Example:
    >>> paper_reference("my_net", "classification") is None  # unknown model: an empty paper cell
    True
    >>> comparison_rows([])
    {'segmentation': [], 'classification': [], 'detection': []}
    >>> entries = collect_reports(["bundles/unet_effb3", "runs/vgg16/eval"])  # doctest: +SKIP
    >>> write_comparison(entries, "comparison")  # doctest: +SKIP
    {'markdown': '.../comparison.md', 'json': '.../comparison.json', 'png': '.../comparison.png'}
"""

from __future__ import annotations

from ..references import deprecated_table, paper_reference
from .chart import render_figure
from .collect import KINDS, LESION_KEYS, SCORE_KEYS, ReportEntry, ReportError, collect_reports, read_report
from .rows import comparison_rows, mixed_geometries
from .table import render_json, render_markdown
from .write import comparison_figure, comparison_markdown, write_comparison

__all__ = [
    "KINDS",
    "SCORE_KEYS",
    "LESION_KEYS",
    "ReportEntry",
    "ReportError",
    "PAPER_B_FROM_SCRATCH_ACCURACY",
    "SEGMENTATION_PAPER_FIGURES",
    "paper_reference",
    "read_report",
    "collect_reports",
    "comparison_rows",
    "mixed_geometries",
    "render_markdown",
    "render_json",
    "render_figure",
    "comparison_markdown",
    "comparison_figure",
    "write_comparison",
]


def __getattr__(name: str):
    # Former tables of published figures, now derived from the bundle specs (keyed by bundle name); they warn.
    if name == "SEGMENTATION_PAPER_FIGURES":
        return deprecated_table(__name__, name, "segmentation")
    if name == "PAPER_B_FROM_SCRATCH_ACCURACY":
        refs = deprecated_table(__name__, name, "classification").items()
        return {n: r["figures_from_scratch"]["accuracy"] for n, r in refs if "accuracy" in r["figures_from_scratch"]}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
