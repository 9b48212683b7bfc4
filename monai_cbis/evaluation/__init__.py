"""Evaluation reports: metrics files, per-case CSVs, figures, and the Ignite handlers that write them.

* :mod:`.segmentation`: lesion / background / background-inclusive Dice and IoU per image, and their summary.
* :mod:`.classification`: accuracy beside the majority-class baseline, balanced accuracy, ROC AUC, sensitivity.
* :mod:`.figures`: overlay panels, training curves, ROC and confusion-matrix plots (matplotlib, no pyplot).
* :mod:`.reports`: atomic JSON / CSV writing, unique case names.
* :mod:`.handlers`: :class:`SegmentationReportHandler`, :class:`ClassificationReportHandler` (attach to evaluators).
* :mod:`.curves`: :class:`TrainingCurvesHandler` (attach to the trainer).
* :mod:`.skipped`: :class:`SkippedFilesHandler`, the rows and files a run left out (logged, and a JSON list).
* lesion level, for every localising model: :mod:`.froc` (hit criterion, FROC), :mod:`.lesion_components` (a
  segmenter's components as scored marks, lesions from masks), :mod:`.detection_map` (COCO mAP through MONAI),
  :mod:`.bootstrap` (intervals resampled by woman), :mod:`.lesion_attributes` (each lesion's CSV fields),
  :mod:`.lesion_level` (the summary and breakdown), :mod:`.lesion_report` and :mod:`.lesion_figures` (its files);
  :class:`DetectionReportHandler` (:mod:`.detection_handler`) writes a detector's report.
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

from .bootstrap import ClusterBootstrap
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
from .detection_map import coco_map
from .figures import confusion_figure, overlay_figure, roc_figure, save_png, training_curves_figure
from .froc import FP_RATES, HIT_CRITERIA, box_iou, froc_points, match_image, operating_threshold
from .lesion_attributes import LesionAttributes
from .lesion_components import mask_detections, mask_lesions, score_segmentation
from .lesion_figures import box_overlay_figure, froc_figure
from .lesion_level import image_record, summarize_lesion_level
from .lesion_report import LesionLevelReport
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
    "DetectionReportHandler": "detection_handler",
    "DETECTION_CSV_COLUMNS": "detection_handler",
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
    "DetectionReportHandler",
    "DETECTION_CSV_COLUMNS",
    "FP_RATES",
    "HIT_CRITERIA",
    "box_iou",
    "match_image",
    "froc_points",
    "operating_threshold",
    "coco_map",
    "ClusterBootstrap",
    "LesionAttributes",
    "mask_detections",
    "mask_lesions",
    "score_segmentation",
    "image_record",
    "summarize_lesion_level",
    "LesionLevelReport",
    "froc_figure",
    "box_overlay_figure",
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
