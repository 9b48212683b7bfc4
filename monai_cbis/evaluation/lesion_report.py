"""The lesion-level part of an evaluation report, shared by the detection and segmentation report handlers.

:class:`LesionLevelReport` turns one evaluated item into a record (:meth:`~LesionLevelReport.segmentation_record`
for a probability map, :meth:`~LesionLevelReport.detection_record` for scored boxes), and at the end writes
``per_lesion.csv`` and ``froc.png`` and returns the ``lesion_level`` summary for ``metrics.json``
(:func:`~.lesion_level.summarize_lesion_level`).

The CSV fields of each lesion (woman, type, pathology, density, subtlety) come from ``lesions``: the abnormality-level
items of the evaluated section (:class:`~.lesion_attributes.LesionAttributes`); the bundle configs pass
``monai_cbis.data.items.section_items(..., level="abnormality")`` of the same section. Without them the fields come
from the engine output items when they carry them, else they are unknown (and each image is its own bootstrap
unit). Lesion sizes are in mm^2 when the label's (or image's) MetaTensor metadata has a real pixel spacing
(``spacing_source`` other than ``"default"``; the pixel area is the determinant of the affine's spatial block,
which the project's resize and crops keep up to date), else in pixels.

Example:
    >>> import numpy as np
    >>> report = LesionLevelReport(n_resamples=100)
    >>> lab = np.zeros((1, 16, 16)); lab[0, 2:6, 2:6] = 1
    >>> prob = np.zeros((1, 16, 16)); prob[0, 2:6, 2:7] = 0.9
    >>> rec = report.segmentation_record("a.png", {}, lab, prob)
    >>> rec["found_score"].round(2).tolist(), rec["dice"].round(3).tolist()
    ([0.9], [0.889])
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .figures import save_png
from .froc import FP_RATES, box_iou, match_image
from .lesion_attributes import LesionAttributes
from .lesion_components import score_segmentation
from .lesion_figures import froc_figure
from .lesion_level import PER_LESION_COLUMNS, image_record, summarize_lesion_level
from .reports import write_csv

__all__ = ["LesionLevelReport", "pixel_area_mm2", "read_path"]


def pixel_area_mm2(value) -> float | None:
    """The area of one pixel in mm^2 from a MetaTensor's metadata, or None when the spacing is unknown.

    Example:
        >>> pixel_area_mm2(np.zeros(3)) is None   # no metadata
        True
    """
    meta = getattr(value, "meta", None)
    if not isinstance(meta, Mapping):
        return None
    source = meta.get("spacing_source")
    if isinstance(source, (list, tuple)):
        source = source[0] if source else None
    if source in (None, "default") or meta.get("affine") is None:
        return None
    affine = np.asarray(getattr(meta["affine"], "cpu", lambda: meta["affine"])(), np.float64)
    if affine.ndim != 2 or affine.shape[0] < 3:
        return None
    area = abs(float(np.linalg.det(affine[:2, :2])))
    return area if area > 0 and np.isfinite(area) else None


def read_path(item: Mapping, path: str):
    """``item[a][b]...`` for a dotted ``path`` ("pred.box"), or None when a step is missing.

    Example:
        >>> read_path({"pred": {"box": 1}}, "pred.box"), read_path({}, "box")
        (1, None)
    """
    cur = item
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _filename(value) -> str | None:
    meta = getattr(value, "meta", None)
    fn = meta.get("filename_or_obj") if isinstance(meta, Mapping) else None
    if isinstance(fn, (list, tuple)):
        fn = fn[0] if len(fn) == 1 else None
    return str(fn) if fn else None


class LesionLevelReport:
    """Collect lesion-level records and write the lesion-level report files.

    Args:
        lesions: the section's abnormality-level items (see the module docstring), or None.
        match_by: how an item is tied to its CSV rows: ``"image"`` (image-level items) or ``"label"`` (the label
            file is one row's mask: abnormality-level items).
        criterion: ``"box_iou"`` (default) or ``"mask_iou"`` (segmenters only), see :mod:`.froc`.
        hit_threshold: overlap at which a mark hits a lesion (0.1).
        operating_fp: false positives per image of the breakdown's operating point (1).
        fp_rates: the FROC's reported rates.
        n_resamples, seed: the bootstrap by woman.
        max_detections: marks per image that count (highest scores), as COCO's 100.
    """

    def __init__(
        self,
        lesions: Iterable[Mapping] | None = None,
        match_by: str = "image",
        criterion: str = "box_iou",
        hit_threshold: float = 0.1,
        operating_fp: float = 1.0,
        fp_rates: Sequence[float] = FP_RATES,
        n_resamples: int = 1000,
        seed: int = 0,
        max_detections: int = 100,
    ) -> None:
        self.attributes = LesionAttributes(lesions, match_by)
        self.criterion, self.hit_threshold, self.operating_fp = criterion, float(hit_threshold), float(operating_fp)
        self.fp_rates, self.n_resamples, self.seed = tuple(fp_rates), int(n_resamples), int(seed)
        self.max_detections = int(max_detections)

    def _fields(self, filename, item, label, n, one_per_row=False, row_index=None):
        return self.attributes.for_item(filename, _filename(label), n, item, one_per_row, row_index)

    def segmentation_record(
        self, filename: str, item: Mapping, label, prob, binary=None, threshold: float = 0.5, meta=None, index=None
    ) -> dict:
        """The record of one segmented image: components of the prediction vs the label's lesions.

        Args:
            filename: the image file.
            item: the engine output item (fields the lookup does not give are read from it).
            label: the ground truth (:func:`~.lesion_components.mask_lesions`: a merged label or a per-lesion stack).
            prob: the lesion probability map (scores); binary: the predicted mask (None: ``prob >= threshold``).
            threshold: lesion is ``value >= threshold`` in the label (and in ``prob`` without ``binary``).
            meta: the MetaTensor whose metadata gives the spacing and the label file (default: ``label``).
            index: the label's lesion index map (one lesion per mask of the item, each with its own CSV row), or
                None (one lesion per connected component of the label). The record says which in ``lesions_from``.
        """
        meta = label if meta is None else meta
        try:
            r = score_segmentation(_np(label), _np(prob), threshold, None if binary is None else _np(binary),
                                   self.criterion, self.hit_threshold, self.max_detections, _np(index))  # fmt: skip
        except ValueError as e:
            raise ValueError(f"{filename}: {e}") from e
        les, det, m = r["lesions"], r["detections"], r["match"]
        patient, fields = self._fields(filename, item, meta, les["areas"].size, row_index=les["index"])
        px = pixel_area_mm2(meta) or pixel_area_mm2(item.get("image"))
        rec = image_record(filename, patient, det["scores"], m["hit"], m["found_score"], les["boxes"], fields,
                           areas=les["areas"], area_mm2=None if px is None else les["areas"] * px,
                           dice=r["lesion_dice"], det_boxes=det["boxes"], best_overlap=m["best_overlap"])  # fmt: skip
        rec["lesions_from"] = "index" if index is not None else "components"
        return rec

    def detection_record(self, filename: str, item: Mapping, gt_boxes, pred_boxes, pred_scores, label=None):
        """The record of one image of a detector: predicted boxes vs the ground-truth boxes (one per CSV row).

        Args:
            filename: the image file; item: the engine output item.
            gt_boxes, pred_boxes: ``(G, 4)`` and ``(D, 4)`` boxes ``xyxy``; pred_scores: ``(D,)``.
            label: a MetaTensor whose metadata gives the spacing / label file, if any.
        """
        gt = np.asarray(_np(gt_boxes), np.float32).reshape(-1, 4)
        pb = np.asarray(_np(pred_boxes), np.float32).reshape(-1, 4)
        ps = np.asarray(_np(pred_scores), np.float64).reshape(-1)
        if ps.size != pb.shape[0]:
            raise ValueError(f"{filename}: {pb.shape[0]} predicted boxes but {ps.size} scores.")
        order = np.argsort(-ps, kind="stable")[: self.max_detections]
        pb, ps = pb[order], ps[order]
        m = match_image(ps, box_iou(pb, gt), self.hit_threshold)
        patient, fields = self._fields(filename, item, label, gt.shape[0], one_per_row=True)
        px = pixel_area_mm2(label) or pixel_area_mm2(item.get("image"))
        box_area = np.prod(np.clip(gt[:, 2:] - gt[:, :2], 0, None), axis=1).astype(np.float64)
        return image_record(filename, patient, ps, m["hit"], m["found_score"], gt, fields,
                            area_mm2=None if px is None else box_area * px, det_boxes=pb,
                            best_overlap=m["best_overlap"])  # fmt: skip

    def write(self, records: Sequence[dict], output_dir: str, title: str = "", lesions_from: str | None = None):
        """Write ``per_lesion.csv`` and ``froc.png`` into ``output_dir``; return ``(summary, files)``.

        ``records`` carry their ``case`` names already (the handler's). ``files`` maps ``per_lesion_csv`` and
        ``froc`` to the written file names (relative to ``output_dir``).
        """
        summary, rows = summarize_lesion_level(
            records, self.criterion, self.hit_threshold, self.operating_fp, self.fp_rates, self.n_resamples,
            self.seed, lesions_from,
        )  # fmt: skip
        for r in rows:
            r["box"] = " ".join(f"{v:g}" for v in r["box"])
        write_csv(rows, PER_LESION_COLUMNS, os.path.join(output_dir, "per_lesion.csv"))
        files = {"per_lesion_csv": "per_lesion.csv"}
        if "froc" in summary:
            f = summary["froc"]
            ci = [(c["low"], c["high"]) for c in f["sensitivity_ci95"]]
            sub = f"hit: {summary['hit_criterion']['name']} >= {self.hit_threshold:g}; {summary['n_lesions']} " \
                  f"lesions, {summary['n_images']} images, {summary['n_women']} women"  # fmt: skip
            fig = froc_figure(f["curve"]["fp_per_image"], f["curve"]["sensitivity"], f["fp_rates"], f["sensitivity"],
                              title=title or "FROC", ci=ci, subtitle=sub)  # fmt: skip
            save_png(fig, os.path.join(output_dir, "froc.png"))
            files["froc"] = "froc.png"
        return summary, files

    def write_gathered(self, parts: Sequence, case_of: Mapping, output_dir: str, title: str, prob_key: str | None):
        """A segmentation report's lesion level: :meth:`write` of the records gathered from every rank.

        Args:
            parts: per rank, ``(records, score sources)``; a case seen twice (padded samplers) counts once. A record
                is told apart by its ``_id`` (the handler's case name, else its image).
            case_of: ``_id`` -> case name (the per-image CSV's).
            output_dir, title: as for :meth:`write`.
            prob_key: the probability key the handler scores with (named in ``scores_from``).

        Returns:
            ``(summary, files)`` as :meth:`write`; the summary also says where the scores came from.
        """
        records, seen, sources = [], set(), set()
        for recs, src in parts:
            sources.update(src)
            for r in recs:
                rid = r.get("_id", r["image"])
                if rid not in seen:
                    seen.add(rid)
                    records.append({**r, "case": case_of.get(rid)})
        records.sort(key=lambda r: (r["image"], str(r["case"])))
        lesions_from = _lesions_from(records, self.attributes.match_by)
        summary, files = self.write(records, output_dir, title, lesions_from)
        summary["scores_from"] = (
            f"the highest value of {prob_key!r} (lesion probability) in each component"
            if sources == {prob_key}
            else "no probabilities in the engine output for some or all images: their marks all score 1, so the "
            f"FROC has one operating point (score sources: {sorted(sources)})"
        )
        return summary, files


_FROM_INDEX = "one per mask of the item (its CSV row), from the lesion index map made beside the merged label"
_FROM_COMPONENTS = {
    "label": "one per connected component of the item's ROI mask (one CSV row)",
    "image": "one per connected component of the label (the union of the image's lesion masks)",
}


def _lesions_from(records: Sequence[Mapping], match_by: str) -> str:
    """What a ground-truth lesion is in these segmentation records (``lesion_level.lesions_from``)."""
    n_index = sum(r.get("lesions_from") == "index" for r in records)
    if records and n_index == len(records):
        return _FROM_INDEX
    if n_index == 0:
        return _FROM_COMPONENTS[match_by]
    return f"{_FROM_INDEX} ({n_index} images); {_FROM_COMPONENTS[match_by]} ({len(records) - n_index} images)"


def _np(x):
    if x is None:
        return None
    if hasattr(x, "detach"):
        x = x.as_tensor() if hasattr(x, "as_tensor") else x
        x = x.detach().cpu()
        return (x.float() if str(x.dtype) == "torch.bfloat16" else x).numpy()
    return np.asarray(x)
