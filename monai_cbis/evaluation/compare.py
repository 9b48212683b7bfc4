"""One table for all models: read the ``metrics.json`` of several evaluations and compare them with the papers.

:func:`collect_reports` reads the reports written by :class:`~monai_cbis.evaluation.SegmentationReportHandler` and
:class:`~monai_cbis.evaluation.ClassificationReportHandler`; :func:`write_comparison` writes ``comparison.md`` (two
Markdown tables), ``comparison.json`` (the same rows) and ``comparison.png`` (grouped bars), all atomically.
``python -m monai_cbis report PATH [PATH ...]`` runs both (see docs/report.md).

Each row carries the published figure of the seed paper its model reproduces (:func:`paper_reference`). Those are
published numbers, not results of this run, on other data, splits and pre-processing: context, not a 1:1 comparison.
Paper A's Dice / IoU almost certainly average in the background class, so they sit beside ``Dice / IoU incl.
background``, never beside the lesion scores.

Example:
    >>> paper_reference("unet_roi", "segmentation")["dice"]
    0.8402
    >>> paper_reference("vgg16_classification", "classification")["accuracy_pretrained"]
    0.7739
    >>> paper_reference("my_net", "classification") is None  # unknown model: an empty paper cell
    True
    >>> entries = collect_reports(["bundles/unet_effb3", "runs/vgg16/eval"])  # doctest: +SKIP
    >>> write_comparison(entries, "comparison")  # doctest: +SKIP
    {'markdown': '.../comparison.md', 'json': '.../comparison.json', 'png': '.../comparison.png'}
"""

from __future__ import annotations

import glob
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from ..atomic import atomic_write
from .classification import PAPER_REFERENCE_CLASSIFICATION
from .figures import save_png
from .reports import json_ready, number_repeats, write_json
from .segmentation import PAPER_REFERENCE_SEGMENTATION

__all__ = [
    "KINDS",
    "ReportEntry",
    "ReportError",
    "PAPER_B_FROM_SCRATCH_ACCURACY",
    "SEGMENTATION_PAPER_FIGURES",
    "paper_reference",
    "read_report",
    "collect_reports",
    "comparison_rows",
    "comparison_markdown",
    "comparison_figure",
    "write_comparison",
]

KINDS = ("segmentation", "classification")

# Seed paper B, section 4.2 (shared/seeds/004), test accuracy of the classifiers trained from scratch ("the model
# trained from scratch achieved 71.56% test accuracy" ...). ViT-B/16 was only trained pretrained.
PAPER_B_FROM_SCRATCH_ACCURACY = {"vgg16": 0.7156, "resnet50": 0.6154, "densenet121": 0.6131, "mobilenetv2": 0.5105}

_SEG = PAPER_REFERENCE_SEGMENTATION
# Bundle name -> the published figure it reproduces, and the metrics of this project that figure compares with.
SEGMENTATION_PAPER_FIGURES = {
    "unet_effb3": {
        "paper": "A",
        "dice": _SEG["paper_A_mean_dice_incl_background"],
        "iou": _SEG["paper_A_mean_iou_incl_background"],
        "compare_with": ["mean_dice_incl_background", "mean_iou_incl_background"],
        "metric": "Dice / IoU incl. background",
        "setting": "U-Net + EfficientNet-B3, full mammograms at 224 x 224; almost certainly averages in the background",
    },
    "unet_roi": {
        "paper": "B",
        "dice": _SEG["paper_B_unet_lesion_dice"],
        "iou": _SEG["paper_B_unet_lesion_iou"],
        "compare_with": ["lesion_dice", "lesion_iou"],
        "metric": "lesion Dice / IoU",
        "setting": "U-Net on 512 x 512 ROI crops",
    },
    "deeplabv3plus_r50": {
        "paper": "B",
        "dice": _SEG["paper_B_deeplabv3plus_lesion_dice"],
        "iou": _SEG["paper_B_deeplabv3plus_lesion_iou"],
        "compare_with": ["lesion_dice", "lesion_iou"],
        "metric": "lesion Dice / IoU",
        "setting": "DeepLabV3+ (ResNet50) on 512 x 512 ROI crops",
    },
}

# Scores shown per kind (keys of metrics.json), in table order; counts first.
_COLUMNS = {
    "segmentation": (
        ("n images", "n_images"),
        ("lesion Dice", "lesion_dice"),
        ("lesion IoU", "lesion_iou"),
        ("Dice incl. background", "mean_dice_incl_background"),
        ("IoU incl. background", "mean_iou_incl_background"),
        ("pixel accuracy", "pixel_accuracy"),
    ),
    "classification": (
        ("n cases", "n_cases"),
        ("accuracy", "accuracy"),
        ("majority baseline", "majority_baseline_accuracy"),
        ("balanced accuracy", "balanced_accuracy"),
        ("AUC", "roc_auc"),
        ("sensitivity", "sensitivity"),
        ("specificity", "specificity"),
    ),
}
_HEADLINE_KEY = {"segmentation": "lesion_dice", "classification": "accuracy"}
_FILES = {"markdown": "comparison.md", "json": "comparison.json", "png": "comparison.png"}

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


class ReportError(ValueError):
    """A ``metrics.json`` that cannot be read or is not a report of this project (the message names the file)."""


@dataclass(frozen=True)
class ReportEntry:
    """One evaluation report, identified.

    Attributes:
        model: the model's name: ``metrics["model"]``, else the bundle folder's name, else the evaluation folder's.
        kind: ``"segmentation"`` (``lesion_dice`` in the metrics) or ``"classification"`` (``accuracy``).
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


def paper_reference(model: str, kind: str) -> dict | None:
    """The published figure for a model, or None for a model the seed papers do not cover.

    Segmentation bundles map through :data:`SEGMENTATION_PAPER_FIGURES` (``unet_effb3`` -> paper A,
    ``unet_roi`` / ``deeplabv3plus_r50`` -> paper B); ``<arch>_classification`` (or plain ``<arch>``) maps to paper
    B's test accuracy of that architecture, pretrained (``PAPER_REFERENCE_CLASSIFICATION``) and from scratch
    (:data:`PAPER_B_FROM_SCRATCH_ACCURACY`). Names are compared in lower case.

    Raises:
        ValueError: ``kind`` is not one of :data:`KINDS`.

    Example:
        >>> paper_reference("unet_effb3", "segmentation")["compare_with"]
        ['mean_dice_incl_background', 'mean_iou_incl_background']
        >>> ref = paper_reference("vit_b16_classification", "classification")
        >>> ref["accuracy_pretrained"], ref["accuracy_from_scratch"]
        (0.7273, None)
    """
    if kind not in KINDS:
        raise ValueError(f"Unsupported kind: {kind!r}, available options are {list(KINDS)}.")
    name = str(model).lower()
    if kind == "segmentation":
        ref = SEGMENTATION_PAPER_FIGURES.get(name)
        return None if ref is None else {**ref, "compare_with": list(ref["compare_with"])}
    arch = name[: -len("_classification")] if name.endswith("_classification") else name
    pretrained = PAPER_REFERENCE_CLASSIFICATION["paper_B_test_accuracy"].get(arch)
    if pretrained is None:
        return None
    return {
        "paper": "B",
        "arch": arch,
        "accuracy_pretrained": pretrained,
        "accuracy_from_scratch": PAPER_B_FROM_SCRATCH_ACCURACY.get(arch),
        "compare_with": ["accuracy"],
        "metric": "test accuracy",
        "setting": "224 x 224 inputs, classes balanced by augmentation before the training / test split",
    }


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
    expected = "'lesion_dice' (SegmentationReportHandler) or 'accuracy' (ClassificationReportHandler)"
    if not isinstance(m, dict):
        raise ReportError(f"{path} holds a JSON {type(m).__name__}, expected an object with {expected}.")
    if "lesion_dice" in m:
        kind = "segmentation"
    elif "accuracy" in m:
        kind = "classification"
    else:
        keys = sorted(m)
        shown = f"{keys[:10]}{' ...' if len(keys) > 10 else ''}"
        raise ReportError(f"{path} is not an evaluation report: expected the key {expected}, found keys {shown}.")
    for _, key in _COLUMNS[kind]:
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
    found = sorted(glob.glob(os.path.join(glob.escape(p), "eval", "**", "metrics.json"), recursive=True))
    if not found:
        raise FileNotFoundError(
            f"No metrics.json for {os.fspath(path)}: looked for {direct} (an evaluation folder) and "
            f"{os.path.join(p, 'eval', '**', 'metrics.json')} (a bundle folder whose evaluation has run)."
        )
    return found


def collect_reports(paths: Iterable[str | os.PathLike]) -> list[ReportEntry]:
    """Read the reports behind ``paths``, in the order given (each ``metrics.json`` once).

    Args:
        paths: each an evaluation folder holding ``metrics.json``, a bundle folder (every
            ``<bundle>/eval/**/metrics.json``, sorted), or a ``metrics.json`` file.

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


def comparison_rows(entries: Sequence[ReportEntry]) -> dict:
    """The comparison as data: ``{"segmentation": [row, ...], "classification": [row, ...]}``.

    Each row holds ``model``, ``label`` (unique: the model, plus its evaluation folder when a model appears twice),
    ``data``, ``source`` (the evaluation folder as shown), ``eval_dir`` / ``metrics_path`` (absolute),
    ``model_from``, ``bundle_dir``, ``bundle_title``, ``epoch``, the scores of the tables (None when absent), and
    ``paper`` (:func:`paper_reference`, None for an unknown model). Classification rows add ``majority_class``.

    Example:
        >>> comparison_rows([])
        {'segmentation': [], 'classification': []}
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
        row.update({key: e.metrics.get(key) for _, key in _COLUMNS[e.kind]})
        if e.kind == "classification":
            row["majority_class"] = e.metrics.get("majority_class")
        row["paper"] = paper_reference(e.model, e.kind)
        out[e.kind].append(json_ready(row))
    return out


def _num(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return str(v) if isinstance(v, int) else f"{v:.4f}"


def _cell(text) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return lines + ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]


def _segmentation_table(rows: Sequence[dict]) -> list[str]:
    cols = [(t, k) for t, k in _COLUMNS["segmentation"] if k != "pixel_accuracy" or any(r[k] is not None for r in rows)]
    with_data = any(r["data"] for r in rows)
    header = ["model"] + (["data"] if with_data else []) + [t for t, _ in cols]
    header += ["paper Dice / IoU", "paper figure compares with", "source"]
    body = []
    for r in rows:
        p = r["paper"]
        paper = f"{_num(p['dice'])} / {_num(p['iou'])} (paper {p['paper']})" if p else ""
        body.append(
            [r["label"]]
            + ([r["data"] or ""] if with_data else [])
            + [_num(r[k]) for _, k in cols]
            + [paper, p["metric"] if p else "", r["source"]]
        )
    return _table(header, body)


def _classification_table(rows: Sequence[dict]) -> list[str]:
    with_data = any(r["data"] for r in rows)
    header = ["model"] + (["data"] if with_data else []) + [t for t, _ in _COLUMNS["classification"]]
    header += ["paper accuracy, pretrained", "paper accuracy, from scratch", "source"]
    body = []
    for r in rows:
        p = r["paper"]
        cells = []
        for _, k in _COLUMNS["classification"]:
            cell = _num(r[k])
            if k == "majority_baseline_accuracy" and r[k] is not None and r.get("majority_class"):
                cell += f" (all {r['majority_class']})"
            cells.append(cell)
        body.append(
            [r["label"]]
            + ([r["data"] or ""] if with_data else [])
            + cells
            + [
                f"{_num(p['accuracy_pretrained'])} (paper B)" if p else "",
                _num(p["accuracy_from_scratch"]) if p and p["accuracy_from_scratch"] is not None else "",
                r["source"],
            ]
        )
    return _table(header, body)


def comparison_markdown(entries: Sequence[ReportEntry]) -> str:
    """The Markdown of ``comparison.md``: a header, one table per kind present, and the notes.

    Example:
        >>> print(comparison_markdown([]).splitlines()[0])
        # Model comparison
    """
    rows = comparison_rows(entries)
    lines = ["# Model comparison", "", _HEADER, "", _PAPER_NOTE]
    if rows["segmentation"]:
        lines += ["", "## Segmentation", "", *_segmentation_table(rows["segmentation"]), "", _SEG_NOTE]
    if rows["classification"]:
        lines += ["", "## Classification", "", *_classification_table(rows["classification"]), "", _CLS_NOTE]
    if not entries:
        lines += ["", "No reports."]
    return "\n".join(lines) + "\n"


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


def comparison_figure(entries: Sequence[ReportEntry], dpi: int = 100) -> Figure:
    """Grouped bars per model: this run's headline scores next to the published figure (hatched).

    Segmentation panel: lesion Dice, Dice incl. background, published Dice (paper A compares with the second, paper
    B with the first). Classification panel: accuracy, majority-class baseline, published accuracy (pretrained).
    One panel per kind present, stacked; the width grows with the number of models.

    Raises:
        ValueError: no entries.

    Example:
        >>> comparison_figure([])
        Traceback (most recent call last):
        ...
        ValueError: No reports to compare: pass at least one evaluation folder, bundle folder or metrics.json.
    """
    rows = comparison_rows(entries)
    kinds = [k for k in KINDS if rows[k]]
    if not kinds:
        raise ValueError("No reports to compare: pass at least one evaluation folder, bundle folder or metrics.json.")
    n = max(len(rows[k]) for k in kinds)
    fig = Figure(figsize=(max(6.5, 1.8 + 1.4 * n), 4.3 * len(kinds)), dpi=dpi, layout="constrained")
    for i, kind in enumerate(kinds):
        ax = fig.add_subplot(len(kinds), 1, i + 1)
        rs = rows[kind]
        labels = [r["label"] for r in rs]
        papers = [r["paper"] for r in rs]
        own = [""] * len(rs)
        if kind == "segmentation":
            series = [
                ("lesion Dice (headline)", [r["lesion_dice"] for r in rs], "#1f77b4", None, own),
                ("Dice incl. background", [r["mean_dice_incl_background"] for r in rs], "#9ecae1", None, own),
                (
                    "published Dice (A: incl. background, B: lesion)",
                    [p["dice"] if p else None for p in papers],
                    "#d9d9d9",
                    "//",
                    [f"{p['paper']} " if p else None for p in papers],
                ),
            ]
            title = "Segmentation: this run vs the published Dice (not a result of this run)"
        else:
            series = [
                ("accuracy", [r["accuracy"] for r in rs], "#d62728", None, own),
                ("majority-class baseline", [r["majority_baseline_accuracy"] for r in rs], "#fcbba1", None, own),
                (
                    "published accuracy, pretrained (paper B)",
                    [p["accuracy_pretrained"] if p else None for p in papers],
                    "#d9d9d9",
                    "//",
                    ["B " if p else None for p in papers],
                ),
            ]
            title = "Classification: this run vs the published accuracy (not a result of this run)"
        _bars(ax, labels, series, title)
    return fig


def write_comparison(entries: Sequence[ReportEntry], out_dir: str | os.PathLike) -> dict[str, str]:
    """Write ``comparison.md``, ``comparison.json`` and ``comparison.png`` into ``out_dir`` (created), atomically.

    ``comparison.json`` holds ``note`` and ``number_format`` (the Markdown's notes), ``segmentation`` and
    ``classification`` (:func:`comparison_rows`), and ``files``.

    Returns:
        ``{"markdown": path, "json": path, "png": path}`` (absolute paths).

    Raises:
        ValueError: no entries.

    Example:
        >>> write_comparison(collect_reports(["bundles/unet_effb3"]), "comparison")["markdown"]  # doctest: +SKIP
        '/work/comparison/comparison.md'
    """
    entries = list(entries)
    if not entries:
        raise ValueError("No reports to compare: pass at least one evaluation folder, bundle folder or metrics.json.")
    out_dir = os.path.abspath(os.fspath(out_dir))
    paths = {k: os.path.join(out_dir, name) for k, name in _FILES.items()}
    fig = comparison_figure(entries)
    text = comparison_markdown(entries)
    data = {
        "note": f"{_PAPER_NOTE} {_SEG_NOTE} {_CLS_NOTE}".replace("*", ""),
        "number_format": "fractions in [0, 1]; the Markdown rounds to 4 decimals, this file does not",
        **comparison_rows(entries),
        "files": dict(_FILES),
    }
    write_json(data, paths["json"])
    atomic_write(paths["markdown"], lambda f: f.write(text))
    save_png(fig, paths["png"])
    return paths
