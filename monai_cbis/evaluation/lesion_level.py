"""The lesion-level report of any localising model: FROC, COCO mAP, and a breakdown by lesion with bootstrap CIs.

The handlers (:class:`~monai_cbis.evaluation.DetectionReportHandler`, the segmentation report) turn each evaluated
image into a record (:func:`image_record`: its detections' scores, which of them hit a lesion, and per lesion the
found score, size, Dice and CSV fields); :func:`summarize_lesion_level` turns the records into the ``lesion_level``
part of ``metrics.json`` and the rows of ``per_lesion.csv``:

* ``froc``: sensitivity at 0.125, 0.25, 0.5, 1, 2, 4 false positives per image and their mean (:mod:`.froc`, the
  hit criterion stated under ``hit_criterion``), each with a 95 % bootstrap interval resampled by woman
  (:mod:`.bootstrap`), and the curve;
* ``coco``: AP at IoU 0.1 and 0.5 and the mean over 0.1-0.5 (:mod:`.detection_map`);
* ``operating_point``: the score threshold of at most ``operating_fp`` false positives per image (1 by default)
  and the sensitivity there;
* ``breakdown``: per group of lesions (size quartile, type, pathology, breast density, subtlety, and type x size):
  the number of lesions and women, the sensitivity at the operating point and with every mark kept, and the mean
  lesion Dice (segmenters), each with its interval;
* ``findings``: plain sentences for the groups whose interval lies wholly below (or above) the overall sensitivity,
  e.g. "misses more: calcification, size Q1 (<= 12.5 mm^2): sensitivity 0.20 (95 % CI 0.05-0.41) at 1 FP/image,
  overall 0.78".

Lesion size: the lesion mask's area in mm^2 when the pixel spacing of every evaluated image is known (DICOM
PixelSpacing / ImagerPixelSpacing, carried through the resize), else in pixels of the evaluated array; detectors
without masks use the box area. Quartile edges are computed over all lesions of the evaluation.

Example:
    >>> rec = image_record("a.png", "P_1", [0.9, 0.2], [True, False], [0.9], [[0, 0, 4, 4]], [{"pathology": "BENIGN"}],
    ...                    areas=[16], det_boxes=[[0, 0, 4, 4], [9, 9, 10, 10]])
    >>> summary, lesions = summarize_lesion_level([rec], n_resamples=50)
    >>> summary["sensitivity_at_1fp"], summary["froc_mean_sensitivity"], lesions[0]["found"]
    (1.0, 1.0, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .bootstrap import CI_LEVEL, ClusterBootstrap
from .detection_map import MAP_IOUS, coco_map, map_key
from .froc import FP_RATES, fp_rate_key, froc, hit_criterion_text, operating_threshold
from .lesion_attributes import LESION_FIELDS

__all__ = [
    "BREAKDOWNS",
    "PER_LESION_COLUMNS",
    "HEADLINE_KEYS",
    "image_record",
    "summarize_lesion_level",
    "headline",
]

#: The lesion groupings of the breakdown, in ``metrics.json`` order.
BREAKDOWNS = ("size", "abnormality_type", "pathology", "breast_density", "subtlety", "abnormality_type_x_size")

#: Columns of ``per_lesion.csv``.
PER_LESION_COLUMNS = ("image", "case", "patient_id", "lesion", *LESION_FIELDS) + (
    "area",
    "size_unit",
    "size_group",
    "box",
    "found_score",
    "found",
    "best_overlap",
    "dice",
)

#: The flat top-level keys a report gets from the lesion-level summary (what ``python -m monai_cbis report`` reads).
HEADLINE_KEYS = ("froc_mean_sensitivity", *(fp_rate_key(r) for r in FP_RATES), *(map_key(i) for i in MAP_IOUS))

#: How a group is named in a finding ("misses more: calcification, size Q1 (<= 4.2 mm^2): ...").
_GROUP_TITLES = {
    "size": "size ",
    "abnormality_type": "",
    "pathology": "",
    "breast_density": "breast density ",
    "subtlety": "subtlety ",
    "abnormality_type_x_size": "",
}
_MIN_GROUP = 5  # lesions a group needs before a finding is written about it


def image_record(
    image: str,
    patient_id: str | None,
    det_scores,
    det_hit,
    found_scores,
    gt_boxes,
    lesion_fields: Sequence[Mapping],
    areas=None,
    area_mm2=None,
    dice=None,
    det_boxes=None,
    best_overlap=None,
    case: str | None = None,
) -> dict:
    """One evaluated image as the summary needs it (small, picklable: gathered across DDP ranks).

    Args:
        image: the image's file (the row key).
        patient_id: the woman (None: unknown; the image is then its own bootstrap cluster).
        det_scores, det_hit: ``(D,)`` detection scores and whether each hits a lesion (:func:`.froc.match_image`).
        found_scores: ``(G,)`` each lesion's found score (``-inf``: missed).
        gt_boxes: ``(G, 4)`` lesion boxes.
        lesion_fields: ``G`` dicts of CSV fields (:class:`.lesion_attributes.LesionAttributes`).
        areas: ``(G,)`` lesion areas in pixels (None: the box areas).
        area_mm2: ``(G,)`` areas in mm^2 when the spacing is known, else None.
        dice: ``(G,)`` lesion Dice (segmenters) or None.
        det_boxes: ``(D, 4)`` detection boxes (for COCO mAP; None: no mAP for this record).
        best_overlap: ``(G,)`` the largest overlap of any detection with each lesion.
        case: the image's short name, if already known.
    """
    gb = np.asarray(gt_boxes, np.float32).reshape(-1, 4)
    g = gb.shape[0]
    fields = [dict(f) for f in lesion_fields]
    if len(fields) != g:
        raise ValueError(f"{image}: {len(fields)} lesion field dicts for {g} lesions.")
    box_area = np.prod(np.clip(gb[:, 2:] - gb[:, :2], 0, None), axis=1)
    return {
        "image": str(image),
        "case": case,
        "patient_id": None if patient_id is None else str(patient_id),
        "det_scores": np.asarray(det_scores, np.float64).reshape(-1),
        "det_hit": np.asarray(det_hit, bool).reshape(-1),
        "det_boxes": None if det_boxes is None else np.asarray(det_boxes, np.float32).reshape(-1, 4),
        "gt_boxes": gb,
        "found_score": np.asarray(found_scores, np.float64).reshape(-1),
        "best_overlap": None if best_overlap is None else np.asarray(best_overlap, np.float64).reshape(-1),
        "areas": box_area.astype(np.float64) if areas is None else np.asarray(areas, np.float64).reshape(-1),
        "area_from": "box" if areas is None else "mask",
        "area_mm2": None if area_mm2 is None else np.asarray(area_mm2, np.float64).reshape(-1),
        "dice": None if dice is None else np.asarray(dice, np.float64).reshape(-1),
        "fields": fields,
    }


def _cluster(rec: Mapping) -> str:
    return rec["patient_id"] if rec["patient_id"] else f"image:{rec['image']}"


def _size_groups(values: np.ndarray, unit: str) -> tuple[list[str], list[float]]:
    if values.size == 0:
        return [], []
    edges = np.quantile(values, [0.25, 0.5, 0.75]).tolist()
    names = [
        f"Q1 (<= {edges[0]:.4g} {unit})",
        f"Q2 ({edges[0]:.4g}-{edges[1]:.4g} {unit}]",
        f"Q3 ({edges[1]:.4g}-{edges[2]:.4g} {unit}]",
        f"Q4 (> {edges[2]:.4g} {unit})",
    ]
    idx = np.searchsorted(np.asarray(edges), values, side="left")
    return [names[i] for i in idx], edges


def _per_cluster(boot, clusters, positions: np.ndarray, width: int) -> np.ndarray:
    """``(n_clusters, width)`` counts of rows per cluster and position."""
    idx = boot.cluster_index(clusters) if len(clusters) else np.zeros(0, np.int64)
    flat = np.bincount(idx * width + positions, minlength=boot.n_clusters * width) if idx.size else None
    return np.zeros((boot.n_clusters, width)) if flat is None else flat.reshape(boot.n_clusters, width).astype(float)


def _froc_ci(boot, found, found_cl, fps, fp_cl, image_cl, rates) -> tuple[np.ndarray, np.ndarray]:
    """Per resample: the sensitivity at each rate ``(B, R)`` and their mean ``(B,)`` (NaN: no lesion drawn).

    The sensitivity only rises where a lesion is found, so the curve of a resample is read at the lesions' found
    scores alone (E events): counts per woman and event, weighted by the draws, one matrix product per quantity.
    """
    events = np.unique(found[np.isfinite(found)])[::-1]  # descending
    e = events.size
    # a lesion counts from its own event on; a false mark from the first event whose threshold it reaches
    pos_found = np.where(np.isfinite(found), np.searchsorted(-events, -found, side="left"), e).astype(np.int64)
    pos_fp = np.searchsorted(-events, -fps, side="left").astype(np.int64)
    w = boot.weights.astype(np.float64)
    found_at = np.cumsum(w @ _per_cluster(boot, found_cl, pos_found, e + 1), axis=1)[:, :e]
    fp_at = np.cumsum(w @ _per_cluster(boot, fp_cl, pos_fp, e + 1), axis=1)[:, :e]
    n_les = w @ _per_cluster(boot, found_cl, np.zeros(len(found_cl), np.int64), 1)[:, 0]
    n_img = w @ _per_cluster(boot, image_cl, np.zeros(len(image_cl), np.int64), 1)[:, 0]
    at = np.full((boot.n_resamples, len(rates)), np.nan)
    ok = (n_les > 0) & (n_img > 0)
    rows = np.arange(boot.n_resamples)
    for i, r in enumerate(rates):
        k = (fp_at <= float(r) * n_img[:, None]).sum(axis=1)  # events within the budget (fp_at never falls)
        hit = np.where(k > 0, found_at[rows, np.clip(k - 1, 0, None)] if e else 0.0, 0.0)
        at[ok, i] = hit[ok] / n_les[ok]
    return at, at.mean(axis=1)


def _corners(curve: Mapping) -> dict:
    """The curve's first and last points and those where the sensitivity rises: all a step curve needs (a test set
    of a few hundred images can have tens of thousands of thresholds)."""
    sens = curve["sensitivity"]
    keep = [i for i in range(len(sens)) if i in (0, len(sens) - 1) or (sens[i] is not None and sens[i] != sens[i - 1])]
    return {k: [curve[k][i] for i in keep] for k in ("thresholds", "fp_per_image", "sensitivity")}


def _group_stats(boot, lesions: list[dict], key_of, dice_known: bool) -> list[dict]:
    groups: dict = {}
    for les in lesions:
        k = key_of(les)
        if k is not None:
            groups.setdefault(k, []).append(les)
    out = []
    for k in sorted(groups, key=lambda v: (isinstance(v, str), str(v))):
        ls = groups[k]
        cl = [x["_cluster"] for x in ls]
        ones = np.ones(len(ls))
        entry = {
            "group": k,
            "n_lesions": len(ls),
            "n_women": len(set(cl)),
            "sensitivity": boot.ratio_ci([x["found"] for x in ls], ones, cl),
            "sensitivity_all_marks": boot.ratio_ci([x["found_score"] > -np.inf for x in ls], ones, cl),
        }
        if dice_known:
            entry["dice"] = boot.ratio_ci([x["dice"] for x in ls], ones, cl)
        out.append(entry)
    return out


def _findings(breakdown: dict, overall: Mapping, op_fp: float) -> list[str]:
    est = overall["estimate"]
    if est is None:
        return []
    out = []
    for name, groups in breakdown.items():
        for g in groups:
            s = g["sensitivity"]
            if g["n_lesions"] < _MIN_GROUP or s["low"] is None:
                continue
            if s["high"] < est or s["low"] > est:
                verb = "misses more" if s["high"] < est else "finds more"
                ci = f"95 % CI {s['low']:.2f}-{s['high']:.2f}, {g['n_lesions']} lesions, {g['n_women']} women"
                out.append(
                    f"{verb}: {_GROUP_TITLES[name]}{g['group']}: sensitivity {s['estimate']:.2f} ({ci}) at "
                    f"{op_fp:g} FP/image, overall {est:.2f}"
                )
    return out


def summarize_lesion_level(
    records: Sequence[Mapping],
    criterion: str = "box_iou",
    hit_threshold: float = 0.1,
    operating_fp: float = 1.0,
    fp_rates: Sequence[float] = FP_RATES,
    n_resamples: int = 1000,
    seed: int = 0,
    lesions_from: str | None = None,
) -> tuple[dict, list[dict]]:
    """The ``lesion_level`` summary and the per-lesion rows of a set of :func:`image_record` records.

    Args:
        records: one per evaluated image (images without lesions included: they count their false positives).
        criterion, hit_threshold: the hit criterion the records were matched with (stated in the summary).
        operating_fp: false positives per image of the breakdown's operating point.
        fp_rates: the FROC's reported rates.
        n_resamples, seed: the bootstrap by woman.
        lesions_from: a sentence saying what a ground-truth lesion is (e.g. "one per connected component of the
            merged label"), written as ``lesions_from``.

    Returns:
        ``(summary, per_lesion_rows)``; the summary's flat :data:`HEADLINE_KEYS` are copied to the top level of a
        report by :func:`headline`.
    """
    records = list(records)
    n_images = len(records)
    spacing_known = bool(records) and all(r["area_mm2"] is not None for r in records)
    unit = "mm^2" if spacing_known else "px"
    lesions: list[dict] = []
    for r in records:
        for i in range(r["found_score"].size):
            area = r["area_mm2"][i] if spacing_known else r["areas"][i]
            lesions.append({
                "image": r["image"], "case": r["case"], "patient_id": r["patient_id"], "lesion": i,
                **{f: r["fields"][i].get(f) for f in LESION_FIELDS},
                "area": float(area), "size_unit": unit, "box": [float(v) for v in r["gt_boxes"][i]],
                "found_score": float(r["found_score"][i]),
                "best_overlap": None if r["best_overlap"] is None else float(r["best_overlap"][i]),
                "dice": None if r["dice"] is None else float(r["dice"][i]),
                "_cluster": _cluster(r),
            })  # fmt: skip
    found = np.array([x["found_score"] for x in lesions], np.float64)
    fps = np.concatenate([r["det_scores"][~r["det_hit"]] for r in records]) if records else np.zeros(0)
    fp_cl = [_cluster(r) for r in records for _ in range(int((~r["det_hit"]).sum()))]
    image_cl = [_cluster(r) for r in records]
    boot = ClusterBootstrap(image_cl, n_resamples=n_resamples, seed=seed)
    out: dict = {
        "hit_criterion": {
            "name": criterion,
            "threshold": hit_threshold,
            "text": hit_criterion_text(criterion, hit_threshold),
        },
        "lesions_from": lesions_from,
        "n_images": n_images,
        "n_lesions": len(lesions),
        "n_women": boot.n_clusters,
        "n_images_without_lesions": sum(r["found_score"].size == 0 for r in records),
        "n_detections": int(sum(r["det_scores"].size for r in records)),
    }  # fmt: skip
    if n_images == 0:
        out.update({k: None for k in HEADLINE_KEYS})
        return out, []
    f = froc(found, fps, n_images, fp_rates)
    at, mean_b = _froc_ci(boot, found, [x["_cluster"] for x in lesions], fps, fp_cl, image_cl, fp_rates)
    out["froc"] = {
        "fp_rates": f["fp_rates"],
        "sensitivity": f["sensitivity"],
        "sensitivity_ci95": [boot.interval(s, at[:, i]) for i, s in enumerate(f["sensitivity"])],
        "mean_sensitivity": f["mean_sensitivity"],
        "mean_sensitivity_ci95": boot.interval(f["mean_sensitivity"], mean_b),
        "max_sensitivity": f["max_sensitivity"],
        "max_fp_per_image": f["max_fp_per_image"],
        "curve": _corners(f["curve"]),
    }
    out["froc_mean_sensitivity"] = f["mean_sensitivity"]
    for rate, s in zip(fp_rates, f["sensitivity"], strict=True):
        out[fp_rate_key(rate)] = s
    if all(r["det_boxes"] is not None for r in records):
        coco = coco_map([r["det_boxes"] for r in records], [r["det_scores"] for r in records],
                        [r["gt_boxes"] for r in records])  # fmt: skip
        out["coco"] = coco
        out.update({map_key(i): coco[map_key(i)] for i in MAP_IOUS})
    else:
        out.update({map_key(i): None for i in MAP_IOUS})
    thr = operating_threshold(found, fps, n_images, operating_fp)
    for x in lesions:
        x["found"] = bool(x["found_score"] >= thr)
    op_fp = float(sum((r["det_scores"][~r["det_hit"]] >= thr).sum() for r in records)) / n_images
    overall = boot.ratio_ci([x["found"] for x in lesions], np.ones(len(lesions)), [x["_cluster"] for x in lesions])
    out["operating_point"] = {"target_fp_per_image": operating_fp, "score_threshold": thr, "fp_per_image": op_fp,
                              "sensitivity": overall}  # fmt: skip
    labels, edges = _size_groups(np.array([x["area"] for x in lesions]), unit)
    for x, g in zip(lesions, labels, strict=True):
        x["size_group"] = g
    dice_known = bool(lesions) and all(x["dice"] is not None for x in lesions)
    keys = {
        "size": lambda x: x["size_group"],
        "abnormality_type": lambda x: x["abnormality_type"],
        "pathology": lambda x: x["pathology"],
        "breast_density": lambda x: x["breast_density"],
        "subtlety": lambda x: x["subtlety"],
        "abnormality_type_x_size": lambda x: f"{x['abnormality_type']}, size {x['size_group']}",
    }
    breakdown = {name: _group_stats(boot, lesions, keys[name], dice_known) for name in BREAKDOWNS}
    out["size"] = {
        "unit": unit,
        "measure": "lesion mask area" if all(r["area_from"] == "mask" for r in records) else "lesion box area",
        "quartile_edges": edges,
    }
    out["breakdown"] = breakdown
    out["findings"] = _findings(breakdown, overall, operating_fp)
    out["bootstrap"] = {
        "unit": "woman (patient_id; an image whose woman is unknown is its own unit)",
        "n_units": boot.n_clusters,
        "n_resamples": boot.n_resamples,
        "seed": boot.seed,
        "interval": f"percentile, {CI_LEVEL:.0%}",
    }
    if dice_known:
        out["lesion_dice_mean"] = boot.ratio_ci([x["dice"] for x in lesions], np.ones(len(lesions)),
                                                [x["_cluster"] for x in lesions])  # fmt: skip
    rows = [{k: v for k, v in x.items() if k != "_cluster"} for x in lesions]
    return out, rows


def headline(summary: Mapping) -> dict:
    """The flat :data:`HEADLINE_KEYS` of a lesion-level summary (None when absent), for a report's top level.

    Example:
        >>> headline({"froc_mean_sensitivity": 0.5})["froc_mean_sensitivity"], headline({})["map_at_iou_0.1"]
        (0.5, None)
    """
    return {k: summary.get(k) for k in HEADLINE_KEYS}
