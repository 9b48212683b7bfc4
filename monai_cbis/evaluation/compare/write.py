"""Write the comparison's three files from one set of rows: ``comparison.md``, ``.json`` and ``.png``, atomically.

The rows are computed once (:func:`~.rows.comparison_rows`) and handed to each renderer, so the three files cannot
disagree. :func:`comparison_markdown` and :func:`comparison_figure` take report entries, for callers that want one
output only.

Example:
    >>> write_comparison(collect_reports(["bundles/unet_effb3"]), "comparison")["markdown"]  # doctest: +SKIP
    '/work/comparison/comparison.md'
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from matplotlib.figure import Figure

from ...atomic import atomic_write
from ..figures import save_png
from ..reports import write_json
from .chart import NO_REPORTS, render_figure
from .collect import ReportEntry
from .rows import comparison_rows
from .table import render_json, render_markdown

__all__ = ["FILES", "comparison_markdown", "comparison_figure", "write_comparison"]

#: Output -> file name inside the output folder.
FILES = {"markdown": "comparison.md", "json": "comparison.json", "png": "comparison.png"}


def comparison_markdown(entries: Sequence[ReportEntry]) -> str:
    """The Markdown of ``comparison.md`` for these reports (:func:`~.table.render_markdown` of their rows).

    Example:
        >>> print(comparison_markdown([]).splitlines()[0])
        # Model comparison
    """
    return render_markdown(comparison_rows(entries))


def comparison_figure(entries: Sequence[ReportEntry], dpi: int = 100) -> Figure:
    """The chart of ``comparison.png`` for these reports (:func:`~.chart.render_figure` of their rows).

    Raises:
        ValueError: no entries.

    Example:
        >>> comparison_figure([])
        Traceback (most recent call last):
        ...
        ValueError: No reports to compare: pass at least one evaluation folder, bundle folder or metrics.json.
    """
    return render_figure(comparison_rows(entries), dpi=dpi)


def write_comparison(entries: Sequence[ReportEntry], out_dir: str | os.PathLike) -> dict[str, str]:
    """Write ``comparison.md``, ``comparison.json`` and ``comparison.png`` into ``out_dir`` (created), atomically.

    ``comparison.json`` holds ``note`` and ``number_format`` (the Markdown's notes), ``segmentation`` and
    ``classification`` (the rows, unrounded), and ``files``; the Markdown and the chart are drawn from the same rows.

    Returns:
        ``{"markdown": path, "json": path, "png": path}`` (absolute paths).

    Raises:
        ValueError: no entries (nothing is written).
    """
    entries = list(entries)
    if not entries:
        raise ValueError(NO_REPORTS)
    out_dir = os.path.abspath(os.fspath(out_dir))
    paths = {k: os.path.join(out_dir, name) for k, name in FILES.items()}
    rows = comparison_rows(entries)
    fig = render_figure(rows)
    text = render_markdown(rows)
    write_json(render_json(rows, FILES), paths["json"])
    atomic_write(paths["markdown"], lambda f: f.write(text))
    save_png(fig, paths["png"])
    return paths
