"""The report of a lesion detector's evaluation: :class:`DetectionReportHandler` (an Ignite handler).

It attaches to an evaluator like :class:`~monai_cbis.evaluation.SegmentationReportHandler` (reset at ``STARTED``,
collect at ``ITERATION_COMPLETED``, gather across DDP ranks and write at ``COMPLETED``; attach it on every rank) and
writes into ``output_dir``:

* ``metrics.json``: the headline figures at the top level (``froc_mean_sensitivity``, ``sensitivity_at_<r>fp`` for
  r = 0.125 ... 4, ``map_at_iou_0.1``, ``map_at_iou_0.5``), the full lesion-level summary under ``lesion_level``
  (hit criterion, FROC with 95 % intervals by woman, COCO mAP, operating point, breakdown, findings), ``epoch``,
  ``files`` and the published reference (``paper_reference``);
* ``per_image.csv`` (one row per image, named by its case with the woman, side, view, lesion ids, types,
  pathologies, density and subtlety: :mod:`monai_cbis.data.case_fields`; then lesions, marks, lesions found and
  false marks at the operating point),
  ``per_lesion.csv`` (one row per ground-truth lesion), ``froc.png``, ``overlays/<case>.png`` (ground-truth boxes
  green, predicted boxes red and dashed with their scores).

Engine output keys: MONAI's detection convention names the boxes ``box``, the classes ``label`` and the scores
``label_scores``, for predictions and targets alike, so the two live in different places of the output item. Each
key here is a dotted path into the output item (``"pred.box"`` reads ``item["pred"]["box"]``), looked up in the
engine output first, then in the batch.

Example:
    >>> handler = DetectionReportHandler("./eval", pred_box_key="pred.box", pred_score_key="pred.label_scores")
    >>> handler.gt_box_key, handler.lesion_report.hit_threshold
    ('box', 0.1)
    >>> handler.attach(evaluator); evaluator.run()  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

import numpy as np
from ignite.engine import Engine

from ..data.case_fields import CASE_COLUMNS
from ._engine import OverlayReportBase, is_writer
from .froc import FP_RATES
from .lesion_figures import box_overlay_figure
from .lesion_level import headline
from .lesion_report import LesionLevelReport, _np, read_path
from .references import resolve_paper_reference
from .reports import write_csv, write_json

__all__ = ["DetectionReportHandler", "DETECTION_CSV_COLUMNS"]

#: Columns of a detector's ``per_image.csv``.
DETECTION_CSV_COLUMNS = ("image", "case", *CASE_COLUMNS, "n_lesions", "n_detections", "n_found",
                         "n_false_positives", "top_score")  # fmt: skip


class DetectionReportHandler(OverlayReportBase):
    """Write the lesion-level report of a detector (see the module docstring for the files).

    Args:
        output_dir: folder of the report (created).
        pred_box_key, pred_score_key: dotted paths of the predicted ``(D, 4)`` boxes and ``(D,)`` scores.
        gt_box_key: dotted path of the ground-truth ``(G, 4)`` boxes (one per lesion).
        image_key: the image (file name from its metadata; drawn under the overlays).
        lesions: the section's abnormality-level items, for each lesion's woman, type, pathology, density and
            subtlety (:class:`~monai_cbis.evaluation.lesion_report.LesionLevelReport`); None: read from the items.
        hit_threshold: box IoU at which a predicted box hits a lesion (0.1).
        operating_fp, fp_rates, n_resamples, seed, max_detections: as for ``LesionLevelReport``.
        num_overlays: overlay images to draw (0: none); overlay_selection: ``"first"`` (by path), ``"worst"``
            (most missed lesions) or ``"best"``.
        panel_px: overlay width in pixels.
        transpose_for_display: arrays are ``(C, W, H)`` (the project convention).
        paper_reference: the published figure (a reference dict, None, or True: the bundle spec's).
        model_name: written as ``"model"``; save_rank, gather_across_ranks, name: as for the other handlers.
    """

    def __init__(
        self,
        output_dir: str,
        pred_box_key: str = "pred.box",
        pred_score_key: str = "pred.label_scores",
        gt_box_key: str = "box",
        image_key: str = "image",
        lesions: Iterable[Mapping] | None = None,
        hit_threshold: float = 0.1,
        operating_fp: float = 1.0,
        fp_rates=FP_RATES,
        n_resamples: int = 1000,
        seed: int = 0,
        max_detections: int = 100,
        num_overlays: int = 8,
        overlay_selection: str = "first",
        panel_px: int = 512,
        transpose_for_display: bool = True,
        paper_reference: Mapping | bool | None = True,
        save_rank: int = 0,
        gather_across_ranks: bool = True,
        name: str | None = None,
        model_name: str | None = None,
    ) -> None:
        self._overlay_settings(num_overlays, overlay_selection, panel_px, transpose_for_display)
        self.pred_box_key, self.pred_score_key, self.gt_box_key = pred_box_key, pred_score_key, gt_box_key
        self.image_key = image_key
        self.lesion_report = LesionLevelReport(lesions, "image", "box_iou", hit_threshold, operating_fp, fp_rates,
                                               n_resamples, seed, max_detections)  # fmt: skip
        self.model_name = model_name
        self.paper_reference = resolve_paper_reference(paper_reference, model_name, "detection")
        super().__init__(output_dir, (image_key,), save_rank, name, gather_across_ranks)

    def _get(self, item: Mapping, key: str, filename: str):
        value = read_path(item, key)
        if value is None:
            value = read_path(self.batch_item(), key)
        if value is None:
            raise KeyError(
                f"DetectionReportHandler needs {key!r} for {filename}: not in the engine output item (keys "
                f"{sorted(item)}) nor in the batch item. Pass pred_box_key / pred_score_key / gt_box_key."
            )
        return value

    def collect(self, item: Mapping, filename: str) -> None:
        gt = self._get(item, self.gt_box_key, filename)
        pb = self._get(item, self.pred_box_key, filename)
        ps = self._get(item, self.pred_score_key, filename)
        rec = self.lesion_report.detection_record(filename, item, gt, pb, ps, label=item.get(self.image_key))
        self.rows.append(rec)
        if self.num_overlays:
            missed = int(np.sum(~np.isfinite(rec["found_score"])))
            fp = int((~rec["det_hit"]).sum())
            key = {"first": (filename,), "worst": (-missed, -fp, filename), "best": (missed, fp, filename)}
            image = item.get(self.image_key)
            grey = None if image is None else np.asarray(_np(image), np.float32)
            rid = self.row_id(filename)
            self._add_candidate((key[self.overlay_selection] + (rid,), rid, grey))

    def completed(self, engine: Engine) -> None:
        """Gather, then (on the writing rank) write the CSVs, figures and ``metrics.json``."""
        records = self._gathered_rows()
        pool = self._candidates()
        if not is_writer(self.save_rank):
            return
        title = self.model_name or "detector"
        summary, files = self.lesion_report.write(records, self.output_dir, title, "one per ground-truth box (CSV row)")
        thr = summary.get("operating_point", {}).get("score_threshold", float("inf"))
        rows = []
        for r in records:
            fp = r["det_scores"][~r["det_hit"]]
            rows.append({"image": r["image"], "case": r["case"], **{f: r[f] for f in CASE_COLUMNS},
                         "n_lesions": int(r["found_score"].size), "n_detections": int(r["det_scores"].size),
                         "n_found": int((r["found_score"] >= thr).sum()), "n_false_positives": int((fp >= thr).sum()),
                         "top_score": float(r["det_scores"].max()) if r["det_scores"].size else None})  # fmt: skip
        write_csv(rows, DETECTION_CSV_COLUMNS, os.path.join(self.output_dir, "per_image.csv"))
        files["per_image_csv"] = "per_image.csv"
        files["overlays"] = self._write_overlays(pool, {r["_id"]: r for r in records}, self._overlay)
        out = {"model": self.model_name} if self.model_name is not None else {}
        out.update({"n_images": len(records), **headline(summary), "lesion_level": summary,
                    "epoch": engine.state.epoch, "files": files})  # fmt: skip
        if self.paper_reference is not None:
            out["paper_reference"] = dict(self.paper_reference)
        write_json(out, os.path.join(self.output_dir, "metrics.json"))
        if records and self.logger is not None:
            fm, s1, m1 = out["froc_mean_sensitivity"], out["sensitivity_at_1fp"], out["map_at_iou_0.1"]
            self.logger.info(
                f"Detection report ({len(records)} images, {summary['n_lesions']} lesions) -> {self.output_dir}: "
                f"FROC mean sensitivity {_fmt(fm)}, sensitivity at 1 FP/image {_fmt(s1)}, mAP@0.1 {_fmt(m1)}"
            )

    def _overlay(self, r: Mapping, entry: tuple):
        """The figure of one image: ground-truth and predicted boxes (with their scores) on the image."""
        grey = entry[2]
        found = int(np.isfinite(r["found_score"]).sum())
        title = f"{r['case']}   lesions found {found}/{r['found_score'].size} (any score)"
        image = grey if grey is not None else np.zeros((16, 16), np.float32)
        return box_overlay_figure(image, r["gt_boxes"], r["det_boxes"], r["det_scores"], title,
                                  panel_px=self.panel_px, transpose=self.transpose_for_display)  # fmt: skip


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.4f}"
