"""What is known about each ground-truth lesion of an evaluated image: the woman, type, pathology, density, subtlety.

The pipelines batch only the keys they need (``image``, ``label``, ...), so the CSV fields of a lesion do not reach
the evaluator's output. :class:`LesionAttributes` looks them up instead, from the abnormality-level items of the same
section (one per CSV row: ``monai_cbis.data.items.section_items(..., level="abnormality")``, which the bundle
configs build from the same index), by file path:

* ``match_by="label"`` (abnormality-level bundles, e.g. ``unet_roi``): the item's label file is one row's ROI mask,
  so its lesion has exactly that row's fields.
* ``match_by="image"`` (image-level bundles: ``unet_effb3``, the detector): every row of the image, in the image
  item's ``label`` order (by type, then abnormality id). A lesion whose position among the item's masks is known
  (``row_index``: the full-mammogram pipeline's lesion index map, a detector's one box per row) gets its own row's
  fields. Otherwise (a label with no index map: its lesions are connected components of the union of the masks,
  not tied to rows) an image with one row (about nine in ten CBIS-DDSM films) gives its lesions that row's fields
  exactly, and an image with several rows gives each field its common value when the rows agree and ``"mixed"`` when
  they differ. The woman and the breast density are the image's, so they are always exact.

Items may also carry the fields themselves (``patient_id``, ...); :meth:`LesionAttributes.for_item` uses them when
no row matches. Unknown fields are None.

Example:
    >>> rows = [{"image": "/d/f.dcm", "mask": "/d/m1.dcm", "patient_id": "P_00001", "abnormality_type": "mass",
    ...          "pathology": "MALIGNANT", "breast_density": 3, "subtlety": 4, "abnormality_id": 1}]
    >>> attrs = LesionAttributes(rows)
    >>> woman, lesions = attrs.for_item("/d/f.dcm", None, n_lesions=2)
    >>> woman, len(lesions), lesions[1]["pathology"]
    ('P_00001', 2, 'MALIGNANT')
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["LESION_FIELDS", "MATCH_BY", "MIXED", "LesionAttributes"]

#: The per-lesion fields of a report (keys of the abnormality-level items).
LESION_FIELDS = ("abnormality_id", "abnormality_type", "pathology", "breast_density", "subtlety")

#: How an evaluated item is tied to its CSV rows.
MATCH_BY = ("image", "label")

#: The value of a field whose rows disagree (an image with several lesions and a merged label).
MIXED = "mixed"


def _norm(path) -> str | None:
    if path is None:
        return None
    if isinstance(path, (list, tuple)):
        return None
    return os.path.normcase(os.path.normpath(os.path.abspath(str(path))))


def _common(values: Sequence):
    distinct = {v for v in values if v is not None}
    if not distinct:
        return None
    return next(iter(distinct)) if len(distinct) == 1 else MIXED


class LesionAttributes:
    """Look up the CSV fields of an evaluated item's lesions.

    Args:
        rows: abnormality-level items (dicts with ``image``, ``mask``, ``patient_id`` and :data:`LESION_FIELDS`),
            or None (nothing known: the fields come from the items alone).
        match_by: ``"image"`` or ``"label"`` (see the module docstring).
    """

    def __init__(self, rows: Iterable[Mapping] | None = None, match_by: str = "image") -> None:
        if match_by not in MATCH_BY:
            raise ValueError(f"Unsupported match_by: {match_by!r}, available options are {list(MATCH_BY)}.")
        self.match_by = match_by
        self.by_image: dict[str, list[dict]] = {}
        self.by_mask: dict[str, dict] = {}
        for r in rows or ():
            row = dict(r)
            self.by_image.setdefault(_norm(row.get("image")), []).append(row)
            if row.get("mask"):
                self.by_mask[_norm(row["mask"])] = row

    @property
    def has_rows(self) -> bool:
        return bool(self.by_image)

    def rows_for(self, image: str | None, label_file: str | None) -> list[dict]:
        """The CSV rows of one evaluated item (empty when none is known)."""
        if self.match_by == "label" and label_file is not None:
            row = self.by_mask.get(_norm(label_file))
            if row is not None:
                return [row]
        rows = self.by_image.get(_norm(image), [])
        return sorted(rows, key=lambda r: (str(r.get("abnormality_type")), _id(r.get("abnormality_id"))))

    def for_item(
        self,
        image: str | None,
        label_file: str | None,
        n_lesions: int,
        item: Mapping | None = None,
        one_per_row: bool = False,
        row_index: Sequence[int] | None = None,
    ) -> tuple[str | None, list[dict]]:
        """``(patient_id, [fields of lesion 0, ...])`` for an item with ``n_lesions`` ground-truth lesions.

        Args:
            image: the item's image file (``filename_or_obj`` of the image).
            label_file: the item's label file (used with ``match_by="label"``).
            n_lesions: how many lesions the evaluation found in the label.
            item: the engine output / batch item; its own ``patient_id`` and :data:`LESION_FIELDS` (or the
                image-level plurals ``abnormality_types``, ``pathologies``) fill what no row gives.
            one_per_row: the lesions are the image's rows in ``label`` order (a detector's per-row boxes): each
                gets its own row's fields when the counts agree.
            row_index: each lesion's 0-based position among the item's masks (``label`` order), e.g. from a lesion
                index map; each gets that row's fields when every position names a row, else the fallback above.
        """
        rows = self.rows_for(image, label_file)
        item = item or {}
        if one_per_row and row_index is None and len(rows) == n_lesions:
            row_index = range(n_lesions)
        known = row_index is not None and len(row_index) == n_lesions
        if rows and known and all(0 <= k < len(rows) for k in row_index):
            own = [rows[int(k)] for k in row_index]
            return _common([r.get("patient_id") for r in rows]), [{f: r.get(f) for f in LESION_FIELDS} for r in own]
        if rows:
            patient = _common([r.get("patient_id") for r in rows])
            fields = {f: _common([r.get(f) for r in rows]) for f in LESION_FIELDS}
        else:
            patient = _scalar(item.get("patient_id"))
            fields = {f: _scalar(item.get(f)) for f in LESION_FIELDS}
            for plural, f in (("abnormality_types", "abnormality_type"), ("pathologies", "pathology")):
                if fields[f] is None and item.get(plural) is not None:
                    fields[f] = _common([_scalar(v) for v in _listed(item[plural])])
        return (None if patient == MIXED else patient), [dict(fields) for _ in range(int(n_lesions))]


def _id(value) -> tuple:
    try:
        return (0, int(value))
    except (TypeError, ValueError):
        return (1, str(value))


def _listed(value) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _scalar(value):
    """A plain value from an item field (a batch-of-one list, a 0-d tensor, a numpy scalar)."""
    if isinstance(value, (list, tuple)):
        return value[0] if len(value) == 1 else None
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return value.item()
    return value
