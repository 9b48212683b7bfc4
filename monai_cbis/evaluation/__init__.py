"""Evaluation reports: metrics files, per-case CSVs, figures, and the Ignite handlers that write them.

* :mod:`.segmentation`: lesion / background / background-inclusive Dice and IoU per image, and their summary.
* :mod:`.classification`: accuracy beside the majority-class baseline, balanced accuracy, ROC AUC, sensitivity.
* :mod:`.figures`: overlay panels, training curves, ROC and confusion-matrix plots (matplotlib, no pyplot).
* :mod:`.reports`: atomic JSON / CSV writing, unique case names.
* :mod:`.handlers`: :class:`SegmentationReportHandler`, :class:`ClassificationReportHandler` (attach to evaluators).
* :mod:`.curves`: :class:`TrainingCurvesHandler` (attach to the trainer).
* :mod:`.skipped`: :class:`SkippedFilesHandler`, the rows and files a run left out (logged, and a JSON list).
* :mod:`.references`: the shape of a published reference figure and where a model's comes from (its
  ``metrics.json``, else its bundle's spec in :mod:`monai_cbis.zoo.specs`).
* :mod:`.compare`: one table for several reports beside the published numbers (``python -m monai_cbis report``):
  collect the reports, compute the rows once, render them as Markdown, JSON and a chart.

The handlers are imported on first use (they pull in PyTorch, Ignite and MONAI); the metrics and figures need only
numpy and matplotlib.

Example:
    >>> from monai_cbis.evaluation import segmentation_metrics
    >>> import numpy as np
    >>> segmentation_metrics(np.ones((1, 2, 2)), np.ones((1, 2, 2)))["lesion_dice"]
    1.0
"""

from __future__ import annotations

from .classification import (
    CLASS_NAMES,
    CLASSIFICATION_CSV_COLUMNS,
    binary_confusion_matrix,
    classification_metrics,
    roc_auc,
    roc_curve,
)
from .compare import (
    ReportEntry,
    ReportError,
    collect_reports,
    comparison_figure,
    comparison_markdown,
    comparison_rows,
    read_report,
    render_figure,
    render_json,
    render_markdown,
    write_comparison,
)
from .figures import confusion_figure, overlay_figure, roc_figure, save_png, training_curves_figure
from .references import check_paper_reference, paper_reference, published_references
from .reports import case_names, json_ready, read_csv, write_csv, write_json
from .segmentation import (
    EMPTY_MASK_CONVENTION,
    PER_IMAGE_METRICS,
    SEGMENTATION_CSV_COLUMNS,
    lesion_mask,
    segmentation_metrics,
    summarize_segmentation,
)

_LAZY = {
    "SegmentationReportHandler": "handlers",
    "ClassificationReportHandler": "handlers",
    "OVERLAY_SELECTIONS": "handlers",
    "TrainingCurvesHandler": "curves",
    "SkippedFilesHandler": "skipped",
    # former tables of published figures, derived from the bundle specs on access (with a DeprecationWarning)
    "PAPER_REFERENCE_SEGMENTATION": "segmentation",
    "PAPER_REFERENCE_CLASSIFICATION": "classification",
    "PAPER_B_FROM_SCRATCH_ACCURACY": "compare",
    "SEGMENTATION_PAPER_FIGURES": "compare",
}


def __getattr__(name: str):
    if name in _LAZY:  # imported on first use: PyTorch, Ignite and MONAI; the bundle specs
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SegmentationReportHandler",
    "ClassificationReportHandler",
    "TrainingCurvesHandler",
    "SkippedFilesHandler",
    "SEGMENTATION_CSV_COLUMNS",
    "CLASSIFICATION_CSV_COLUMNS",
    "OVERLAY_SELECTIONS",
    "EMPTY_MASK_CONVENTION",
    "PAPER_REFERENCE_SEGMENTATION",
    "PER_IMAGE_METRICS",
    "lesion_mask",
    "segmentation_metrics",
    "summarize_segmentation",
    "CLASS_NAMES",
    "PAPER_REFERENCE_CLASSIFICATION",
    "binary_confusion_matrix",
    "classification_metrics",
    "roc_auc",
    "roc_curve",
    "overlay_figure",
    "training_curves_figure",
    "roc_figure",
    "confusion_figure",
    "save_png",
    "case_names",
    "json_ready",
    "read_csv",
    "write_csv",
    "write_json",
    "ReportEntry",
    "ReportError",
    "PAPER_B_FROM_SCRATCH_ACCURACY",
    "SEGMENTATION_PAPER_FIGURES",
    "paper_reference",
    "check_paper_reference",
    "published_references",
    "read_report",
    "collect_reports",
    "comparison_rows",
    "comparison_markdown",
    "comparison_figure",
    "render_markdown",
    "render_json",
    "render_figure",
    "write_comparison",
]
