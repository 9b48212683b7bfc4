"""Indexed records -> MONAI datalists at two levels, split into training / validation / test.

* ``image`` level: one item per full mammogram, for full-image segmentation. ``label`` is the list of all its usable
  lesion masks (merge them into one label with ``monai_cbis.transforms.MergeMasksd``).
* ``abnormality`` level: one item per usable CSV row (lesion crops, ROI segmentation, benign/malignant).

Items of both levels carry a ``case`` dict (:func:`~monai_cbis.data.case_fields.case_fields`): the case name the
reports use and the CSV fields a person reads, all as strings.

The written JSON loads with :func:`monai.data.load_decathlon_datalist` (sections ``training``, ``validation``,
``test``) and carries a top-level ``skipped`` list and ``summary``.

Example:
    >>> index = index_collection("/data/CBIS-DDSM")  # doctest: +SKIP
    >>> dl = build_datalist(index, level="image", split="patient", seed=0, val_frac=0.2)  # doctest: +SKIP
    >>> dl["training"][0]["label"]  # doctest: +SKIP
    ['/data/CBIS-DDSM/Mass-Training_P_00001_LEFT_CC_1/.../000001.dcm']
"""

from __future__ import annotations

import os
import warnings
from collections import Counter, defaultdict

import numpy as np

from ..atomic import atomic_write_json
from .case_fields import CASE_KEY, case_fields
from .indexer import CollectionIndex, IndexedRecord
from .splits import SECTIONS, SplitPlan, plan_split

__all__ = ["LEVELS", "abnormality_item", "image_items", "build_datalist", "write_datalist"]

LEVELS = ("image", "abnormality")


def _path(p: str | None, root: str, relative: bool) -> str | None:
    if p is None or not relative:
        return p
    return os.path.relpath(p, root).replace(os.sep, "/")


def abnormality_item(r: IndexedRecord, root: str = "", relative: bool = False) -> dict:
    """One abnormality-level item (one CSV row)."""
    rec = r.record
    return {
        "image": _path(r.image, root, relative),
        "mask": _path(r.mask, root, relative),
        "crop": _path(r.crop, root, relative),
        "patient_id": rec.patient_id,
        "abnormality_type": rec.abnormality_type,
        "abnormality_id": rec.abnormality_id,
        "pathology": rec.pathology,
        "malignant": rec.malignant,
        "laterality": rec.laterality,
        "view": rec.view,
        "assessment": rec.assessment,
        "subtlety": rec.subtlety,
        "breast_density": rec.breast_density,
        **rec.descriptors(),
        "official_split": rec.split,
        "image_size": list(r.image_shape),
        "mask_size_ok": r.mask_size_ok,
        "csv_file": os.path.basename(rec.csv_file),
        "csv_row": rec.row,
        CASE_KEY: case_fields([rec], lesion=True),
    }


def image_items(
    records: list[IndexedRecord], rows_per_series: dict[str, int] | None = None, root: str = "", relative: bool = False
) -> list[dict]:
    """One item per full mammogram with the list of its usable masks.

    Args:
        records: usable rows.
        rows_per_series: number of CSV rows per full-image series folder (usable or not); when given, each item's
            ``masks_skipped`` says how many of the image's lesions have no usable mask (its label is incomplete).
    """
    by_image: dict[str, list[IndexedRecord]] = defaultdict(list)
    for r in records:
        by_image[r.image].append(r)
    items = []
    for image, rows in by_image.items():
        rows.sort(key=lambda r: (r.record.abnormality_type, r.record.abnormality_id))
        first = rows[0].record
        total = (rows_per_series or {}).get(first.image_series, len(rows))
        items.append(
            {
                "image": _path(image, root, relative),
                "label": [_path(r.mask, root, relative) for r in rows],
                "patient_id": first.patient_id,
                "laterality": first.laterality,
                "view": first.view,
                "abnormality_types": sorted({r.record.abnormality_type for r in rows}),
                "abnormality_ids": [r.record.abnormality_id for r in rows],
                "pathologies": [r.record.pathology for r in rows],
                "malignant": int(any(r.record.malignant for r in rows)),
                "series": first.image_series,
                "official_split": first.split,
                "image_size": list(rows[0].image_shape),
                "label_size_ok": all(r.mask_size_ok for r in rows),
                "masks_skipped": max(0, total - len(rows)),
                CASE_KEY: case_fields([r.record for r in rows], lesion=False),
            }
        )
    items.sort(key=lambda d: d["series"])
    return items


def build_datalist(
    index: CollectionIndex,
    level: str = "image",
    split: str = "patient",
    seed: int = 0,
    val_frac: float = 0.2,
    relative: bool = False,
    rng: np.random.RandomState | None = None,
    warn: bool = True,
) -> dict:
    """Split an index into sections and build the datalist dictionary.

    Args:
        index: from :func:`monai_cbis.data.indexer.index_collection`.
        level: ``"image"`` or ``"abnormality"``.
        split: ``"patient"`` (leak-free, default) or ``"official"``.
        seed, val_frac: the validation draw (by woman); ``rng`` overrides ``seed`` (datasets pass their ``self.R``).
        relative: write paths relative to ``index.root`` instead of absolute.
        warn: emit a warning when the official split leaks women across sections.

    Returns:
        ``{"training": [...], "validation": [...], "test": [...], "skipped": [...], "summary": {...}, ...}``.

    Raises:
        ValueError: unknown ``level`` or ``split``, or ``val_frac`` outside [0, 1).
    """
    if level not in LEVELS:
        raise ValueError(f"Unsupported level: {level!r}, available options are {list(LEVELS)}.")
    plan = plan_split(index.all_records, split, val_frac, rng if rng is not None else np.random.RandomState(seed))
    sections: dict[str, list[IndexedRecord]] = {s: [] for s in SECTIONS}
    dropped = 0
    for r in index.records:
        section = plan.section_of(r.record.patient_id, r.record.split)
        if section is None:
            dropped += 1
        else:
            sections[section].append(r)
    skipped = list(index.skipped)
    used_types = {r.abnormality_type for r in index.all_records if index.task in ("both", r.abnormality_type)}
    leaking = _leaking_in_use(index)
    if split == "official" and leaking and warn:
        warnings.warn(
            f"The official split puts {len(leaking)} women on both the training and the test side "
            f"(types used: {sorted(used_types)}). Use split='patient' for a leak-free split.",
            stacklevel=2,
        )
    out: dict = {
        "name": "CBIS-DDSM",
        "description": f"monai-cbis {level}-level datalist, {split} split",
        "root": index.root,
        "layout": index.layout,
        "level": level,
        "task": index.task,
        "split": split,
        "seed": seed,
        "val_frac": val_frac,
        "paths": "relative to root" if relative else "absolute",
    }
    if level == "abnormality":
        for s in SECTIONS:
            out[s] = [abnormality_item(r, index.root, relative) for r in sections[s]]
    else:
        rows_per_series: dict[str, int] = defaultdict(int)
        for rec in index.all_records:
            if index.task in ("both", rec.abnormality_type):
                rows_per_series[rec.image_series] += 1
        for s in SECTIONS:
            out[s] = image_items(sections[s], rows_per_series, index.root, relative)
        usable_series = {r.record.image_series for r in index.records}
        for series in sorted(set(rows_per_series) - usable_series):
            skipped.append(
                {
                    "kind": "image",
                    "reason": "no_usable_mask",
                    "detail": "every row of this image was skipped",
                    "series": series,
                    "path": "",
                }
            )
    out["skipped"] = skipped
    out["summary"] = _summary(index, plan, out, dropped, leaking)
    return out


def _leaking_in_use(index: CollectionIndex) -> set[str]:
    """Women on both sides of the official split among the rows actually used (task subset)."""
    used = [r.record for r in index.records]
    return {r.patient_id for r in used if r.split == "train"} & {r.patient_id for r in used if r.split == "test"}


def _summary(index: CollectionIndex, plan: SplitPlan, out: dict, dropped: int, leaking: set[str]) -> dict:
    s = index.summary()
    s["level"] = out["level"]
    s["split"] = plan.split
    s["sections"] = {k: len(out[k]) for k in SECTIONS}
    s["women"] = {k: len({i["patient_id"] for i in out[k]}) for k in SECTIONS}
    s["skipped_by_reason"] = dict(sorted(Counter(e["reason"] for e in out["skipped"]).items()))
    if plan.split == "patient":
        s["rows_dropped_from_training_for_leakage"] = dropped
        s["women_removed_from_training"] = len(plan.removed_women)
    else:
        s["women_on_both_sides"] = len(leaking)
    return s


def write_datalist(datalist: dict, path: str | os.PathLike) -> str:
    """Write a datalist as JSON atomically (a crash mid-write leaves any previous file intact); returns the path."""
    return atomic_write_json(datalist, path)
