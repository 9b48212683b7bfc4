"""What a person reading a report needs to know about an item: its case name and its CSV fields, as strings.

Every item of :func:`~monai_cbis.data.datalist.build_datalist` carries a ``case`` dict made here. It travels through
the bundles' pipelines like any other key (MONAI's dictionary transforms leave it alone, the DataLoader collates a
dict of strings and ``decollate_batch`` splits it again) and the evaluation report handlers name their per-case CSV
rows and overlay files after it and copy its fields into columns (:data:`CASE_COLUMNS`).

* ``name``: the full mammogram's series folder (``Mass-Test_P_00477_RIGHT_CC``) for an image-level item; that plus
  ``_<abnormality_id>`` (``Mass-Test_P_00477_RIGHT_CC_2``, the name of the row's ROI series folder) for one lesion.
* ``patient_id`` (the woman), ``laterality`` (the side), ``view``, ``breast_density``: one value per film.
* ``abnormality_id``, ``abnormality_type``, ``pathology``, ``subtlety``: per lesion. An image-level item with
  several lesions lists them joined by ``;`` in the order of its ``abnormality_id`` (``"1;2"``, ``"BENIGN;MALIGNANT"``).

All values are strings, a missing one is ``""``: ``None`` breaks the DataLoader's collation.

Example:
    >>> from monai_cbis.data.records import CaseRecord
    >>> rec = CaseRecord("mass_case_description_test_set.csv", 1, "P_00477", "RIGHT", "CC", 2, "mass", "MALIGNANT",
    ...                  "test", "Mass-Test_P_00477_RIGHT_CC/1-1.dcm", "", "", subtlety=4, breast_density=3)
    >>> case = case_fields([rec], lesion=True)
    >>> case["name"], case["pathology"], case["subtlety"]
    ('Mass-Test_P_00477_RIGHT_CC_2', 'MALIGNANT', '4')
    >>> case_fields([rec], lesion=False)["name"]
    'Mass-Test_P_00477_RIGHT_CC'
"""

from __future__ import annotations

from collections.abc import Sequence

from .records import SERIES_FOLDER_RE, CaseRecord

__all__ = ["CASE_COLUMNS", "CASE_KEY", "case_fields"]

#: The item key holding the dict.
CASE_KEY = "case"

#: The fields of the dict besides ``name``, in the order of the per-case CSV columns that follow ``case``.
CASE_COLUMNS = (
    "patient_id",
    "laterality",
    "view",
    "abnormality_id",
    "abnormality_type",
    "pathology",
    "breast_density",
    "subtlety",
)

_PER_FILM = ("patient_id", "laterality", "view", "breast_density")


def _text(value) -> str:
    return "" if value is None else str(value)


def series_name(rec: CaseRecord) -> str:
    """The full image's series folder name; rebuilt from the row's fields when the CSV path does not start with one."""
    if SERIES_FOLDER_RE.match(rec.image_series):
        return rec.image_series
    kind = "Mass" if rec.abnormality_type == "mass" else "Calc"
    split = "Training" if rec.split == "train" else "Test"
    return f"{kind}-{split}_{rec.patient_id}_{rec.laterality}_{rec.view}"


def _joined(values: list[str]) -> str:
    """One value when all agree (a film's density), else all of them joined by ``;``."""
    return values[0] if len(set(values)) == 1 else ";".join(values)


def case_fields(records: Sequence[CaseRecord], lesion: bool) -> dict[str, str]:
    """The ``case`` dict of an item made of ``records`` (one row for a lesion, a film's rows for an image).

    Args:
        records: the item's CSV rows, in the item's order (image level: by type, then abnormality id).
        lesion: one lesion (the name gets ``_<abnormality_id>``) or a whole film.

    Raises:
        ValueError: no records, or several for a lesion.
    """
    if not records or (lesion and len(records) != 1):
        raise ValueError(f"case_fields needs one record for a lesion and at least one for a film, got {len(records)}.")
    first = records[0]
    name = series_name(first) + (f"_{first.abnormality_id}" if lesion else "")
    out = {"name": name}
    for f in CASE_COLUMNS:
        values = [_text(getattr(r, f)) for r in records]
        out[f] = _joined(values) if f in _PER_FILM else ";".join(values)
    return out
