"""Ignite handlers that write the evaluation reports of a MONAI evaluator run.

:class:`SegmentationReportHandler` and :class:`ClassificationReportHandler` attach to an evaluator (e.g.
``monai.engines.SupervisedEvaluator``), read ``engine.state.output`` after post-processing at every iteration (a list
of per-item dicts with ``decollate=True``, or a batched dict), and write their files at ``COMPLETED``. They reset at
``STARTED``, so an evaluator re-run every validation epoch rewrites the report of the latest run.

Distributed runs: attach the handler on every rank (``requires_all_ranks`` is True: do not filter it out of the
handler lists of ranks other than 0; it writes on rank 0 by itself). At ``COMPLETED`` each rank's per-case rows (and
its overlay candidates, at most ``num_overlays`` cases) are gathered with ``ignite.distributed.all_gather``, a
collective, so a handler attached on one rank only would hang; the ``save_rank`` process (rank 0) writes. Rows with
the same image file are kept once under DDP, because distributed samplers pad the data set with repeated items.
``gather_across_ranks=False`` turns the gathering off for a handler attached on one rank only: its report then
covers that rank's share of the data alone.

Items without a ``filename_or_obj`` in their metadata are named ``item_000000``, ``item_000001``... in the order
seen (``item_r<rank>_...`` under DDP).

Example:
    >>> SegmentationReportHandler(output_dir="./eval", num_overlays=8).attach(evaluator)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
from ignite.engine import Engine

from ..transforms.breast_gate import total_removed
from ..transforms.film_geometry import GEOMETRIES
from ._engine import OVERLAY_SELECTIONS, OverlayReportBase, ReportHandlerBase, is_writer, to_numpy
from .classification import CLASS_NAMES, CLASSIFICATION_CSV_COLUMNS, classification_metrics, roc_curve
from .figures import confusion_figure, overlay_figure, roc_figure, save_png
from .lesion_level import headline
from .lesion_report import LesionLevelReport
from .references import resolve_paper_reference
from .reports import write_csv, write_json
from .segmentation import (
    SEGMENTATION_CSV_COLUMNS,
    lesion_mask,
    segmentation_metrics,
    summarize_segmentation,
)

__all__ = [
    "SegmentationReportHandler",
    "ClassificationReportHandler",
    "OVERLAY_SELECTIONS",
]

_PROB_TOLERANCE = 1e-3  # half-precision softmax outputs can stray this far outside [0, 1]


class SegmentationReportHandler(OverlayReportBase):
    """Write ``metrics.json``, ``per_image.csv`` and ``overlays/<case>.png`` for a lesion segmentation evaluator.

    Per-image scores follow :mod:`monai_cbis.evaluation.segmentation` (lesion Dice/IoU as the headline, background
    and background-inclusive means beside them, the empty-mask convention, the published reference under
    ``paper_reference``). ``metrics.json`` is written last, so its presence means the report is complete; it also
    records ``epoch`` (the trainer's epoch when a ``ValidationHandler`` runs the evaluator) and the overlay files.

    Args:
        output_dir: folder of the report (created).
        num_overlays: how many overlay panels to draw (0: none).
        threshold: lesion is ``value >= threshold`` in label and prediction (probabilities or masks).
        image_key, label_key, pred_key: keys of the per-item output dicts. The lesion channel of a ``(2, ...)``
            array is channel 1; ``(1, ...)`` arrays are the lesion.
        overlay_selection: which cases get a panel: ``"first"`` (by image path), ``"worst"`` or ``"best"`` (by
            lesion Dice, ties by path). Deterministic; at most ``num_overlays`` cases are kept in memory per rank.
        panel_px: size of each of the three square panels of an overlay, in pixels.
        transpose_for_display: arrays are ``(C, W, H)`` (the project convention); False for ``(C, H, W)``.
        paper_reference: the published figure this model reproduces, written under ``"paper_reference"`` in
            ``metrics.json``: a reference dict (:mod:`monai_cbis.evaluation.references`; the generated evaluate
            configs pass their bundle spec's), or None to leave the key out. Older configs' bools still work: True
            looks up the bundle spec named ``model_name`` (nothing when there is none), False is None.
        save_rank: the rank that writes under DDP.
        gather_across_ranks: gather rows from all DDP ranks (the handler must then be attached on every rank).
        name: logger name; None uses ``engine.logger``.
        model_name: written as ``"model"`` in ``metrics.json`` (bundles pass their name, e.g. ``"unet_roi"``), so
            ``python -m monai_cbis report`` knows the model; None leaves the key out.
        lesion_level: also score the model at lesion level (:mod:`monai_cbis.evaluation.lesion_level`): the
            connected components of the predicted mask become marks scored by their highest probability, giving
            FROC, COCO mAP and the breakdown by lesion with bootstrap intervals under ``"lesion_level"`` (headline
            figures at the top level), ``per_lesion.csv`` and ``froc.png``.
        prob_key: the key holding the lesion probabilities (the scores; the bundles copy ``pred`` there before
            thresholding it); when an item lacks it, every mark scores 1 and the FROC has one point.
        lesions, lesion_match_by: the section's abnormality-level items and how an item is tied to them
            (``"image"``: image-level items; ``"label"``: the label is one row's mask), for each lesion's woman,
            type, pathology, density and subtlety (:class:`~monai_cbis.evaluation.lesion_report.LesionLevelReport`).
        hit_criterion, hit_threshold: a component hits a lesion when their box IoU (``"box_iou"``) or pixel IoU
            (``"mask_iou"``) is at least ``hit_threshold``.
        operating_fp, n_resamples, seed: the breakdown's operating point (false positives per image) and the
            bootstrap by woman.
        geometry: where the predictions and labels this handler receives were scored, recorded as ``"geometry"`` in
            ``metrics.json``: ``"working"`` (the bundle's working grid: the default) or ``"original"`` (the original
            film: the evaluate configs' ``eval_geometry original`` moves the prediction back and reads the film's own
            masks first, :mod:`monai_cbis.transforms.film_geometry`). At ``"original"`` the overlay panels keep a
            shrunk copy of each candidate's masks (a full-size film's would hold hundreds of MB) and are drawn
            without the working-resolution image.
        index_key: the key of the label's lesion index map (:class:`~monai_cbis.transforms.LesionIndexMap`, which
            the full-mammogram preset writes as ``"label_index"``), read from the engine output or, untouched by
            the post-processing, the batch. Where an item has it, each of the image's masks is one ground-truth
            lesion with its own CSV row (two touching masks stay two lesions); without it (None, or an item that
            lacks the key) the lesions are the connected components of the label.
        extra_fields: more entries for ``metrics.json`` as given (the whole-film evaluation's ``film_scale``).

    Example:
        >>> handler = SegmentationReportHandler("./eval/segmentation", num_overlays=8, overlay_selection="worst")
        >>> handler.num_overlays, handler.threshold, handler.overlay_selection
        (8, 0.5, 'worst')
        >>> handler.attach(evaluator); evaluator.run()  # doctest: +SKIP
    """

    def __init__(
        self,
        output_dir: str,
        num_overlays: int = 8,
        threshold: float = 0.5,
        image_key: str = "image",
        label_key: str = "label",
        pred_key: str = "pred",
        overlay_selection: str = "first",
        panel_px: int = 256,
        transpose_for_display: bool = True,
        paper_reference: Mapping | bool | None = True,
        save_rank: int = 0,
        gather_across_ranks: bool = True,
        name: str | None = None,
        model_name: str | None = None,
        lesion_level: bool = True,
        prob_key: str | None = "pred_prob",
        lesions=None,
        lesion_match_by: str = "image",
        hit_criterion: str = "box_iou",
        hit_threshold: float = 0.1,
        operating_fp: float = 1.0,
        n_resamples: int = 1000,
        seed: int = 0,
        index_key: str | None = "label_index",
        geometry: str = "working",
        extra_fields: Mapping | None = None,
    ) -> None:
        if geometry not in GEOMETRIES:
            raise ValueError(f"Unsupported geometry: {geometry!r}, available options are {list(GEOMETRIES)}.")
        self.geometry, self.extra_fields = geometry, dict(extra_fields or {})
        self._overlay_settings(num_overlays, overlay_selection, panel_px, transpose_for_display)
        self.threshold = float(threshold)
        self.image_key, self.label_key, self.pred_key = image_key, label_key, pred_key
        self.model_name = model_name
        self.paper_reference = resolve_paper_reference(paper_reference, model_name, "segmentation")
        self.prob_key, self.index_key = prob_key, index_key
        self.lesion_report = (
            LesionLevelReport(lesions, lesion_match_by, hit_criterion, hit_threshold, operating_fp,
                              n_resamples=n_resamples, seed=seed)
            if lesion_level else None
        )  # fmt: skip
        super().__init__(output_dir, (image_key, pred_key, label_key), save_rank, name, gather_across_ranks)

    def reset(self, engine: Engine | None = None) -> None:
        super().reset(engine)  # overlay candidates: (sort key, row id, grey image or None, label mask, pred mask)
        self._lesion_records: list[dict] = []
        self._scores_from: set[str] = set()

    def _key(self, row: dict, rid: str) -> tuple:
        if self.overlay_selection == "worst":
            return (row["lesion_dice"], row["image"], rid)
        if self.overlay_selection == "best":
            return (-row["lesion_dice"], row["image"], rid)
        return (row["image"], rid)

    def collect(self, item: Mapping, filename: str) -> None:
        for k in (self.label_key, self.pred_key):
            if k not in item:
                raise KeyError(f"SegmentationReportHandler needs {k!r} in the engine output; it has {sorted(item)}.")
        label = lesion_mask(to_numpy(item[self.label_key]), self.threshold, "label", filename)
        pred = lesion_mask(to_numpy(item[self.pred_key]), self.threshold, "pred", filename)
        row = {"image": filename, **segmentation_metrics(label, pred, self.threshold, filename=filename)}
        row["breast_gate"] = item.get("breast_gate")  # what GateByBreastd removed from this prediction, if it ran
        self.rows.append(row)
        if self.lesion_report is not None:
            has_prob = self.prob_key is not None and self.prob_key in item
            prob = _lesion_channel(to_numpy(item[self.prob_key])) if has_prob else pred.astype(np.float32)
            self._scores_from.add(self.prob_key if has_prob else "pred")
            record = self.lesion_report.segmentation_record(
                filename, item, label, prob, pred, self.threshold, meta=item[self.label_key], index=self._index(item)
            )
            record["_id"] = self.row_id(filename)
            self._lesion_records.append(record)
        if self.num_overlays and self.geometry == "original":
            small = [_shrunk_mask(m, 2 * self.panel_px) for m in (label, pred)]
            self._add_candidate((self._key(row, self.row_id(filename)), self.row_id(filename), None, *small))
        elif self.num_overlays:
            image = item.get(self.image_key)
            grey = None if image is None else to_numpy(image).astype(np.float32)
            if grey is not None and grey.ndim == 3:
                grey = grey.mean(axis=0)
            if grey is not None and grey.shape != label.shape:
                self.logger.warning(
                    f"{self.image_key!r} of {filename} has spatial shape {grey.shape}, the label {label.shape}: its "
                    "overlay is drawn on a blank background."
                )
                grey = None
            self._add_candidate((self._key(row, self.row_id(filename)), self.row_id(filename), grey, label, pred))

    def _overlay(self, r: Mapping, entry: tuple):
        """The figure of one case: image, label and prediction panels."""
        _, _, grey, lab, prd = entry
        title = f"{r['case']}   lesion Dice {r['lesion_dice']:.3f}   IoU {r['lesion_iou']:.3f}"
        image = grey if grey is not None else np.zeros(lab.shape, np.float32)
        return overlay_figure(image, lab, prd, title, panel_px=self.panel_px, transpose=self.transpose_for_display)

    def _index(self, item: Mapping) -> np.ndarray | None:
        """The item's lesion index map (output first, then batch), or None."""
        if self.index_key is None:
            return None
        value = item.get(self.index_key)
        if value is None:
            value = self.batch_item().get(self.index_key)
        return None if value is None else to_numpy(value)

    def completed(self, engine: Engine) -> None:
        """Gather, then (on the writing rank) write ``per_image.csv``, the overlays and ``metrics.json``."""
        rows = self._gathered_rows()
        pool = self._candidates()
        lesion_parts = self._gather((self._lesion_records, sorted(self._scores_from)))
        if not is_writer(self.save_rank):
            return
        case_of = {r["_id"]: r["case"] for r in rows}
        by_id = {r["_id"]: r for r in rows}
        write_csv(rows, SEGMENTATION_CSV_COLUMNS, os.path.join(self.output_dir, "per_image.csv"))
        overlays = self._write_overlays(pool, by_id, self._overlay)
        summary = summarize_segmentation(rows, self.threshold, self.paper_reference)
        files = {"per_image_csv": "per_image.csv", "overlays": overlays}
        if self.lesion_report is not None:
            lesion_summary, lesion_files = self.lesion_report.write_gathered(
                lesion_parts, case_of, self.output_dir, self.model_name or "", self.prob_key
            )
            files.update(lesion_files)
            summary.update(headline(lesion_summary))
            summary["lesion_level"] = lesion_summary
        removed = total_removed(r["breast_gate"] for r in rows)
        if removed is not None:
            summary["breast_gate"] = removed
        summary.update({"geometry": self.geometry, **self.extra_fields, "epoch": engine.state.epoch, "files": files})
        if self.model_name is not None:
            summary = {"model": self.model_name, **summary}
        write_json(summary, os.path.join(self.output_dir, "metrics.json"))
        if summary["n_images"]:
            self.logger.info(
                f"Segmentation report ({summary['n_images']} images) -> {self.output_dir}: lesion Dice "
                f"{summary['lesion_dice']:.4f}, lesion IoU {summary['lesion_iou']:.4f}; background-inclusive mean "
                f"Dice {summary['mean_dice_incl_background']:.4f}, IoU {summary['mean_iou_incl_background']:.4f}"
            )


def _shrunk_mask(mask: np.ndarray, max_side: int) -> np.ndarray:
    """A binary mask shrunk by an integer factor so that no side exceeds ``max_side``; a shrunk pixel is lesion where
    any of its pixels is (a small lesion stays visible)."""
    factor = -(-max(mask.shape) // max_side)
    if factor <= 1:
        return mask
    w, h = (-(-s // factor) * factor for s in mask.shape)
    padded = np.zeros((w, h), bool)
    padded[: mask.shape[0], : mask.shape[1]] = mask > 0
    return padded.reshape(w // factor, factor, h // factor, factor).any(axis=(1, 3))


def _lesion_channel(a: np.ndarray) -> np.ndarray:
    """The lesion probabilities of a ``(1, ...)`` or ``(2, ...)`` (background, lesion) map, as a spatial array."""
    if a.ndim >= 3 and a.shape[0] in (1, 2):
        return a[-1]
    return a


class ClassificationReportHandler(ReportHandlerBase):
    """Write ``metrics.json``, ``per_case.csv``, ``confusion_matrix.png`` and ``roc.png`` for a benign/malignant model.

    Metrics follow :func:`monai_cbis.evaluation.classification_metrics` (accuracy beside the majority-class
    baseline, balanced accuracy, ROC AUC, sensitivity/specificity of the malignant class, confusion matrix).

    ``pred`` must hold probabilities: one value (sigmoid: probability of malignancy) or one per class (softmax;
    ``positive_index`` picks malignant). Put ``Activationsd(keys="pred", softmax=True)`` in the post-processing, and
    do not discretize ``pred`` before this handler (the AUC would be computed from hard decisions; a warning says so).
    ``label`` is a class index (malignant when equal to ``positive_index``; ``0``/``1`` for a single sigmoid output)
    or a one-hot vector.

    Args:
        output_dir: folder of the report (created).
        label_key, pred_key: keys of the per-item output dicts.
        positive_index: the malignant class's channel of ``pred`` and its index in ``label``.
        threshold: predicted malignant when ``probability >= threshold``.
        image_key: where the file name is looked up first (MetaTensor metadata).
        paper_reference: the published figure, written under ``"paper_reference"``: a reference dict, None, or a
            bool, as for :class:`SegmentationReportHandler`.
        save_rank: the rank that writes under DDP.
        gather_across_ranks: gather rows from all DDP ranks (the handler must then be attached on every rank).
        name: logger name; None uses ``engine.logger``.
        model_name: written as ``"model"`` in ``metrics.json`` (e.g. ``"vgg16_classification"``); None leaves it out.

    Example:
        >>> ClassificationReportHandler("./eval/classification").attach(evaluator)  # doctest: +SKIP
    """

    def __init__(
        self,
        output_dir: str,
        label_key: str = "label",
        pred_key: str = "pred",
        positive_index: int = 1,
        threshold: float = 0.5,
        image_key: str = "image",
        paper_reference: Mapping | bool | None = True,
        save_rank: int = 0,
        gather_across_ranks: bool = True,
        name: str | None = None,
        model_name: str | None = None,
    ) -> None:
        self.label_key, self.pred_key, self.image_key = label_key, pred_key, image_key
        self.positive_index, self.threshold = int(positive_index), float(threshold)
        self.model_name = model_name
        self.paper_reference = resolve_paper_reference(paper_reference, model_name, "classification")
        super().__init__(output_dir, (image_key, pred_key, label_key), save_rank, name, gather_across_ranks)

    def collect(self, item: Mapping, filename: str) -> None:
        for k in (self.label_key, self.pred_key):
            if k not in item:
                raise KeyError(f"ClassificationReportHandler needs {k!r} in the engine output; it has {sorted(item)}.")
        p = to_numpy(item[self.pred_key]).astype(np.float64).reshape(-1)
        y = to_numpy(item[self.label_key]).astype(np.float64).reshape(-1)
        where = f" of {filename}"
        if p.size == 1:
            prob = float(p[0])
        elif self.positive_index < p.size:
            prob = float(p[self.positive_index])
        else:
            raise ValueError(
                f"positive_index {self.positive_index} is out of range for pred{where} of shape {p.shape}."
            )
        if not -_PROB_TOLERANCE <= prob <= 1.0 + _PROB_TOLERANCE:
            raise ValueError(
                f"pred{where} is {p.tolist()}: not probabilities. Add Activationsd(keys='pred', softmax=True) (or "
                "sigmoid=True for one output) to the post-processing before this handler."
            )
        prob = min(max(prob, 0.0), 1.0)  # float32 / float16 softmax rounding
        if y.size == 1:
            index = int(round(y[0]))
            if index != y[0] or index < 0 or (p.size > 1 and index >= p.size) or (p.size == 1 and index > 1):
                raise ValueError(f"label{where} is {y[0]}: expected a class index in [0, {max(p.size, 2) - 1}].")
        else:
            index = int(np.argmax(y))
        self.rows.append(
            {"image": filename, "true_label": int(index == (self.positive_index if p.size > 1 else 1)), "prob": prob}
        )

    def completed(self, engine: Engine) -> None:
        """Gather, then (on the writing rank) write ``per_case.csv``, the figures and ``metrics.json``."""
        rows = self._gathered_rows()
        if not is_writer(self.save_rank):
            return
        y = [r["true_label"] for r in rows]
        prob = [r["prob"] for r in rows]
        m = classification_metrics(y, prob, self.threshold)
        for r in rows:
            r["prob_malignant"], r["predicted_label"] = r["prob"], int(r["prob"] >= self.threshold)
        write_csv(rows, CLASSIFICATION_CSV_COLUMNS, os.path.join(self.output_dir, "per_case.csv"))
        save_png(
            confusion_figure(m["confusion_matrix"], CLASS_NAMES), os.path.join(self.output_dir, "confusion_matrix.png")
        )
        fpr, tpr, _ = roc_curve(y, prob)
        spec = m["specificity"]
        point = (1 - spec if spec is not None else None, m["sensitivity"])
        save_png(roc_figure(fpr, tpr, m["roc_auc"], operating_point=point), os.path.join(self.output_dir, "roc.png"))
        hard = bool(rows) and all(v in (0.0, 1.0) for v in prob)
        if hard and len(rows) > 1:
            self.logger.warning(
                "ClassificationReportHandler: every probability is exactly 0 or 1; pred looks discretized, so the "
                "ROC AUC reflects hard decisions. Keep probabilities in pred (discretize a copy for other metrics)."
            )
        m.update(
            {
                "epoch": engine.state.epoch,
                "pred_all_hard_decisions": hard,
                "files": {"per_case_csv": "per_case.csv", "confusion_matrix": "confusion_matrix.png", "roc": "roc.png"},
            }
        )
        if self.paper_reference is not None:
            m["paper_reference"] = dict(self.paper_reference)
        if self.model_name is not None:
            m = {"model": self.model_name, **m}
        write_json(m, os.path.join(self.output_dir, "metrics.json"))
        if rows:
            f = {k: "n/a" if m[k] is None else f"{m[k]:.4f}" for k in ("accuracy", "balanced_accuracy", "roc_auc")}
            self.logger.info(
                f"Classification report ({m['n_cases']} cases) -> {self.output_dir}: accuracy {f['accuracy']} "
                f"(majority-class baseline {m['majority_baseline_accuracy']:.4f}), balanced accuracy "
                f"{f['balanced_accuracy']}, AUC {f['roc_auc']}"
            )
