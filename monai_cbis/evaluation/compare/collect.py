"""Find and read the ``metrics.json`` reports to compare: which files, which model, which kind.

:func:`collect_reports` turns the paths given to ``python -m monai_cbis report`` (evaluation folders, bundle folders,
files) into :class:`ReportEntry` objects, one per ``metrics.json`` written by a report handler
(:class:`~monai_cbis.evaluation.SegmentationReportHandler` or its classification twin).
Nothing here knows the published figures or how the comparison looks.

Example:
    >>> SCORE_KEYS["classification"][:3]
    ('n_cases', 'accuracy', 'majority_baseline_accuracy')
    >>> [e.model for e in collect_reports(["bundles/unet_effb3", "runs/vgg16/eval"])]  # doctest: +SKIP
    ['unet_effb3', 'vgg16_classification']
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..references import KINDS

__all__ = ["KINDS", "SCORE_KEYS", "LESION_KEYS", "ReportEntry", "ReportError", "read_report", "collect_reports"]

#: The lesion-level scores (keys of ``metrics.json``) of every localising model: a detector's headline and a
#: segmentation report's lesion level (:mod:`monai_cbis.evaluation.lesion_level`), shown side by side.
LESION_KEYS = (
    "froc_mean_sensitivity",
    "sensitivity_at_0.5fp",
    "sensitivity_at_1fp",
    "map_at_iou_0.1",
    "map_at_iou_0.5",
)

#: The scores of each kind that the comparison shows (keys of ``metrics.json``), in table order; counts first.
#: ``read_report`` checks that each (and each of :data:`LESION_KEYS` present) is a number or null.
SCORE_KEYS = {
    "segmentation": (
        "n_images",
        "lesion_dice",
        "lesion_iou",
        "mean_dice_incl_background",
        "mean_iou_incl_background",
        "pixel_accuracy",
    ),
    "classification": (
        "n_cases",
        "accuracy",
        "majority_baseline_accuracy",
        "balanced_accuracy",
        "roc_auc",
        "sensitivity",
        "specificity",
    ),
    "detection": ("n_images", *LESION_KEYS),
}


#: The folders of a bundle whose reports a bundle path stands for: its evaluation, then its evaluation on whole
#: films (a crop-trained segmenter's ``evaluate_films.json``).
BUNDLE_EVAL_DIRS = ("eval", "eval_films")


class ReportError(ValueError):
    """A ``metrics.json`` that cannot be read or is not a report of this project (the message names the file)."""


@dataclass(frozen=True)
class ReportEntry:
    """One evaluation report, identified.

    Attributes:
        model: the model's name: ``metrics["model"]``, else the bundle folder's name, else the evaluation folder's.
        kind: ``"segmentation"`` (``lesion_dice`` in the metrics), ``"classification"`` (``accuracy``) or
            ``"detection"`` (``froc_mean_sensitivity`` without ``lesion_dice``: a detector's report).
        metrics: the parsed ``metrics.json``.
        metrics_path: absolute path of ``metrics.json``.
        eval_dir: the folder holding it.
        model_from: how ``model`` was found: ``"metrics"``, ``"bundle"`` or ``"folder"``.
        bundle_dir: the enclosing bundle (first parent with ``configs/metadata.json``), or None.
        bundle_title: that bundle's ``metadata.json`` ``name``, or None.
        data: ``metrics["data"]`` as text when the report records its data, else None.
    """

    model: str
    kind: str
    metrics: dict = field(repr=False)
    metrics_path: str
    eval_dir: str
    model_from: str
    bundle_dir: str | None = None
    bundle_title: str | None = None
    data: str | None = None


def _find_bundle(folder: str) -> str | None:
    d = os.path.abspath(folder)
    while True:
        if os.path.isfile(os.path.join(d, "configs", "metadata.json")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _bundle_title(bundle_dir: str) -> str | None:
    try:
        with open(os.path.join(bundle_dir, "configs", "metadata.json"), encoding="utf-8") as f:
            name = json.load(f).get("name")
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) and name.strip() else None


def _data_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def read_report(path: str | os.PathLike) -> ReportEntry:
    """Read one ``metrics.json`` and identify its model and kind.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ReportError: not readable, not JSON, not a JSON object, neither kind, or a score that is not a number.

    Example:
        >>> read_report("bundles/unet_roi/eval/test/metrics.json").model  # doctest: +SKIP
        'unet_roi'
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such metrics file: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except json.JSONDecodeError as e:
        raise ReportError(f"{path} is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}).") from None
    except UnicodeDecodeError:
        raise ReportError(f"{path} is not valid JSON (not UTF-8 text).") from None
    except OSError as e:
        raise ReportError(f"Cannot read {path}: {e.strerror or e}.") from None
    expected = (
        "'lesion_dice' (SegmentationReportHandler), 'accuracy' (ClassificationReportHandler) or "
        "'froc_mean_sensitivity' (DetectionReportHandler)"
    )
    if not isinstance(m, dict):
        raise ReportError(f"{path} holds a JSON {type(m).__name__}, expected an object with {expected}.")
    if "lesion_dice" in m:
        kind = "segmentation"
    elif "accuracy" in m:
        kind = "classification"
    elif "froc_mean_sensitivity" in m:
        kind = "detection"
    else:
        keys = sorted(m)
        shown = f"{keys[:10]}{' ...' if len(keys) > 10 else ''}"
        raise ReportError(f"{path} is not an evaluation report: expected the key {expected}, found keys {shown}.")
    for key in dict.fromkeys((*SCORE_KEYS[kind], *LESION_KEYS)):
        v = m.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise ReportError(f"{path}: {key!r} is {v!r}, expected a number or null.")
    eval_dir = os.path.dirname(path)
    bundle = _find_bundle(eval_dir)
    model = m.get("model")
    if model is not None:
        if not isinstance(model, str) or not model.strip():
            raise ReportError(f"{path}: 'model' is {model!r}, expected a non-empty string (the bundle name).")
        model, model_from = model.strip(), "metrics"
    elif bundle is not None:
        model, model_from = os.path.basename(bundle), "bundle"
    else:
        model, model_from = os.path.basename(eval_dir), "folder"
    return ReportEntry(
        model=model,
        kind=kind,
        metrics=m,
        metrics_path=path,
        eval_dir=eval_dir,
        model_from=model_from,
        bundle_dir=bundle,
        bundle_title=_bundle_title(bundle) if bundle else None,
        data=_data_text(m.get("data")),
    )


def _metrics_files(path: str | os.PathLike) -> list[str]:
    p = os.path.abspath(os.fspath(path))
    if os.path.isfile(p):
        return [p]
    if not os.path.isdir(p):
        raise FileNotFoundError(f"No such file or folder: {os.fspath(path)}")
    direct = os.path.join(p, "metrics.json")
    if os.path.isfile(direct):
        return [direct]
    found = [
        f
        for folder in BUNDLE_EVAL_DIRS
        for f in sorted(glob.glob(os.path.join(glob.escape(p), folder, "**", "metrics.json"), recursive=True))
    ]
    if not found:
        looked = " or ".join(os.path.join(p, d, "**", "metrics.json") for d in BUNDLE_EVAL_DIRS)
        raise FileNotFoundError(
            f"No metrics.json for {os.fspath(path)}: looked for {direct} (an evaluation folder) and "
            f"{looked} (a bundle folder whose evaluation has run)."
        )
    return found


def collect_reports(paths: Iterable[str | os.PathLike]) -> list[ReportEntry]:
    """Read the reports behind ``paths``, in the order given (each ``metrics.json`` once).

    Args:
        paths: each an evaluation folder holding ``metrics.json``, a bundle folder (every
            ``<bundle>/eval/**/metrics.json``, sorted, then every ``<bundle>/eval_films/**/metrics.json``), or a
            ``metrics.json`` file.

    Returns:
        one :class:`ReportEntry` per report.

    Raises:
        FileNotFoundError: a path does not exist, or holds no ``metrics.json`` (the message says where it looked).
        ReportError: a ``metrics.json`` is not valid JSON or not a report (the message names the file).

    Example:
        >>> [e.model for e in collect_reports(["bundles/unet_effb3", "runs/vgg16/eval"])]  # doctest: +SKIP
        ['unet_effb3', 'vgg16_classification']
    """
    entries, seen = [], set()
    for path in paths:
        for f in _metrics_files(path):
            real = os.path.realpath(f)
            if real not in seen:
                seen.add(real)
                entries.append(read_report(f))
    return entries
