"""The four CBIS-DDSM case-description CSVs -> typed :class:`CaseRecord` objects.

Every quirk of the real CSVs is handled here and only here:

* CRLF line ends and quoted path cells that end in an embedded newline (mass files: ``ROI mask file path``; calc
  files: ``cropped image file path``): parsed with :mod:`csv` and every cell stripped.
* ``breast_density`` (mass) versus ``breast density`` (calc): column names are compared after folding spaces and
  underscores.
* the literal ``N/A`` for a missing descriptor -> ``None``.
* ``BENIGN_WITHOUT_CALLBACK`` is kept as its own pathology (it counts as benign, see :attr:`CaseRecord.malignant`).
* subtlety and breast density of 0 occur and are kept (they are outside the documented 1..5 / 1..4 ranges).
* the official split comes from the ``Training``/``Test`` prefix of the image path (the file name as a fall-back).

Rows that cannot be used (no patient id, an unknown pathology, a non-numeric abnormality id, ...) are returned as
:class:`RowProblem` entries naming the file and row, never dropped silently. A file without the required columns
raises :class:`CaseCSVError`.

Example:
    >>> records, problems = load_case_records("/data/CBIS-DDSM")  # doctest: +SKIP
    >>> records[0].patient_id, records[0].abnormality_type, records[0].split  # doctest: +SKIP
    ('P_00001', 'mass', 'train')
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CaseRecord",
    "RowProblem",
    "CaseCSVError",
    "CASE_CSV_NAMES",
    "find_case_csvs",
    "read_case_csv",
    "load_case_records",
    "PATHOLOGIES",
    "ABNORMALITY_TYPES",
]

#: The official file names, keyed by (abnormality type, official split).
CASE_CSV_NAMES = {
    ("mass", "train"): "mass_case_description_train_set.csv",
    ("mass", "test"): "mass_case_description_test_set.csv",
    ("calcification", "train"): "calc_case_description_train_set.csv",
    ("calcification", "test"): "calc_case_description_test_set.csv",
}
PATHOLOGIES = ("MALIGNANT", "BENIGN", "BENIGN_WITHOUT_CALLBACK")
ABNORMALITY_TYPES = ("mass", "calcification")

_CSV_NAME_RE = re.compile(r"^(mass|calc)[\s_-]*case[\s_-]*description[\s_-]*(train|test)[\s_-]*set.*\.csv$", re.I)
_PATIENT_RE = re.compile(r"P_\d{5}")
_SPLIT_RE = re.compile(r"^(Mass|Calc)-(Training|Test)_", re.I)
#: A CBIS-DDSM series folder: ``Mass-Training_P_00001_LEFT_CC`` (full image) or ``..._CC_1`` (one CSV row's ROI files).
SERIES_FOLDER_RE = re.compile(r"^(Mass|Calc)-(Training|Test)_P_\d+_(LEFT|RIGHT)_(CC|MLO)(_\d+)?$", re.I)
# The CSV search never descends into series folders or the Kaggle image trees: a few directory listings even on the
# full 10,239-file collection.
_SKIP_DIRS = {"jpeg", "dicom", "__pycache__", ".git"}


class CaseCSVError(ValueError):
    """A case CSV cannot be read at all (missing columns, not a CSV); the message names the file."""


@dataclass(frozen=True)
class RowProblem:
    """A CSV row that was not turned into a record, with the reason."""

    csv_file: str
    row: int  #: 1-based data row number (the header is row 0); CSV line numbers differ because of embedded newlines
    reason: str
    detail: str
    patient_id: str = ""

    def as_dict(self) -> dict:
        return {
            "csv_file": self.csv_file,
            "row": self.row,
            "patient_id": self.patient_id,
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CaseRecord:
    """One abnormality row of a case CSV, normalised.

    Paths are the CSV's relative paths with separators normalised to ``/``; whether the crop and mask paths are
    right is decided later from the files themselves (see :mod:`monai_cbis.data.indexer`).
    """

    csv_file: str
    row: int
    patient_id: str  #: the woman, ``P_xxxxx`` (NOT the DICOM PatientID, which is the series folder)
    laterality: str  #: ``LEFT`` | ``RIGHT``
    view: str  #: ``CC`` | ``MLO``
    abnormality_id: int
    abnormality_type: str  #: ``mass`` | ``calcification``
    pathology: str  #: one of :data:`PATHOLOGIES`
    split: str  #: official split, ``train`` | ``test``
    image_path: str
    crop_path: str
    mask_path: str
    assessment: int | None = None
    subtlety: int | None = None
    breast_density: int | None = None
    mass_shape: str | None = None
    mass_margins: str | None = None
    calc_type: str | None = None
    calc_distribution: str | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def malignant(self) -> int:
        """1 for ``MALIGNANT``, 0 for ``BENIGN`` and ``BENIGN_WITHOUT_CALLBACK``."""
        return int(self.pathology == "MALIGNANT")

    @property
    def image_series(self) -> str:
        """The full image's series folder, e.g. ``Mass-Training_P_00001_LEFT_CC``."""
        return self.image_path.split("/", 1)[0]

    @property
    def roi_series(self) -> str:
        """The ROI files' series folder, e.g. ``Mass-Training_P_00001_LEFT_CC_1``."""
        return self.mask_path.split("/", 1)[0] or self.crop_path.split("/", 1)[0]

    def descriptors(self) -> dict:
        """The lesion descriptors present for this type, ``None`` for ``N/A``."""
        if self.abnormality_type == "mass":
            return {"mass_shape": self.mass_shape, "mass_margins": self.mass_margins}
        return {"calc_type": self.calc_type, "calc_distribution": self.calc_distribution}


def _fold(name: str) -> str:
    """Column-name key: lower case, spaces/underscores/dashes removed (``breast density`` == ``breast_density``)."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


# folded column name -> attribute
_COLUMNS = {
    "patientid": "patient_id",
    "breastdensity": "breast_density",
    "leftorrightbreast": "laterality",
    "imageview": "view",
    "abnormalityid": "abnormality_id",
    "abnormalitytype": "abnormality_type",
    "massshape": "mass_shape",
    "massmargins": "mass_margins",
    "calctype": "calc_type",
    "calcdistribution": "calc_distribution",
    "assessment": "assessment",
    "pathology": "pathology",
    "subtlety": "subtlety",
    "imagefilepath": "image_path",
    "croppedimagefilepath": "crop_path",
    "roimaskfilepath": "mask_path",
}
# attribute -> the column name as the real files spell it (for messages)
_DISPLAY = {
    "patient_id": "patient_id",
    "laterality": "left or right breast",
    "view": "image view",
    "abnormality_id": "abnormality id",
    "abnormality_type": "abnormality type",
    "pathology": "pathology",
    "image_path": "image file path",
    "crop_path": "cropped image file path",
    "mask_path": "ROI mask file path",
}
_REQUIRED = (
    "patient_id",
    "laterality",
    "view",
    "abnormality_id",
    "abnormality_type",
    "pathology",
    "image_path",
    "crop_path",
    "mask_path",
)


def _is_image_folder(path: Path) -> bool:
    """A folder named CBIS-DDSM, or one holding series folders."""
    if path.name.upper() == "CBIS-DDSM":
        return True
    try:
        return any(SERIES_FOLDER_RE.match(e.name) for e in os.scandir(path) if e.is_dir())
    except OSError:
        return False


def find_case_csvs(root: str | os.PathLike, max_depth: int = 6) -> list[str]:
    """Find the case-description CSVs anywhere under ``root`` (any subset of the four).

    Matches the official names case-insensitively (``mass_case_description_train_set.csv`` and the like, also with
    suffixes such as ``... (1).csv``). Series folders and Kaggle ``jpeg``/``dicom`` trees are not searched.
    When the same official name appears more than once, the copy nearest to ``root`` wins. The search goes
    ``max_depth`` folders down.

    Returns:
        sorted absolute paths.
    """
    found: dict[str, tuple[int, str]] = {}
    root = os.path.abspath(root)
    for dirpath, dirnames, filenames in os.walk(root):
        depth = dirpath[len(root) :].count(os.sep)
        dirnames[:] = [
            d for d in dirnames if d.lower() not in _SKIP_DIRS and not SERIES_FOLDER_RE.match(d) and depth < max_depth
        ]
        for name in filenames:
            m = _CSV_NAME_RE.match(name)
            if not m:
                continue
            key = f"{m.group(1).lower()}_{m.group(2).lower()}"
            if key not in found or depth < found[key][0]:
                found[key] = (depth, os.path.join(dirpath, name))
    return sorted(p for _, p in found.values())


def _int_or_none(value: str) -> int | None:
    if value in ("", "N/A"):
        return None
    return int(float(value))


def _split_from(image_path: str, csv_file: str) -> str | None:
    m = _SPLIT_RE.match(image_path)
    if m:
        return "train" if m.group(2).lower() == "training" else "test"
    m = _CSV_NAME_RE.match(os.path.basename(csv_file))
    return m.group(2).lower() if m else None


def _norm_path(value: str) -> str:
    return value.strip().replace("\\", "/").strip("/")


def read_case_csv(path: str | os.PathLike) -> tuple[list[CaseRecord], list[RowProblem]]:
    """Parse one case CSV.

    Raises:
        CaseCSVError: the file is unreadable or lacks a required column (the message lists the missing and the
            found columns).
    """
    path = str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise CaseCSVError(f"{path}: cannot read as CSV ({e}).") from e
    if not rows:
        raise CaseCSVError(f"{path}: empty file, expected a CBIS-DDSM case-description header row.")
    header = [_COLUMNS.get(_fold(c)) for c in rows[0]]
    missing = [_DISPLAY[c] for c in _REQUIRED if c not in header]
    if missing:
        raise CaseCSVError(
            f"{path}: missing column(s) {missing}; found {[c.strip() for c in rows[0]]}. "
            "Is this an unmodified CBIS-DDSM case-description CSV?"
        )
    records: list[CaseRecord] = []
    problems: list[RowProblem] = []
    for i, raw in enumerate(rows[1:], start=1):
        cells = [c.strip() for c in raw]
        if not any(cells):
            continue  # blank line
        if len(cells) < len(header):
            problems.append(RowProblem(path, i, "bad_row", f"{len(cells)} cells, expected {len(header)}"))
            continue
        values = {a: cells[j] for j, a in enumerate(header) if a is not None}
        rec, problem = _to_record(path, i, values)
        if rec is not None:
            records.append(rec)
        else:
            problems.append(problem)
    return records, problems


def _to_record(path: str, row: int, v: dict[str, str]) -> tuple[CaseRecord | None, RowProblem | None]:
    pid = v["patient_id"]

    def bad(detail: str) -> tuple[None, RowProblem]:
        return None, RowProblem(path, row, "bad_row", detail, patient_id=pid)

    m = _PATIENT_RE.search(pid) or _PATIENT_RE.search(v["image_path"])
    if not m:
        return bad(f"patient_id {pid!r} is not of the form P_xxxxx")
    pid = m.group(0)
    laterality, view = v["laterality"].upper(), v["view"].upper()
    if laterality not in ("LEFT", "RIGHT"):
        return bad(f"left or right breast {v['laterality']!r} not in ['LEFT', 'RIGHT']")
    if view not in ("CC", "MLO"):
        return bad(f"image view {v['view']!r} not in ['CC', 'MLO']")
    atype = v["abnormality_type"].lower()
    atype = {"calc": "calcification"}.get(atype, atype)
    if atype not in ABNORMALITY_TYPES:
        return bad(f"abnormality type {v['abnormality_type']!r} not in {list(ABNORMALITY_TYPES)}")
    pathology = v["pathology"].upper().replace(" ", "_")
    if pathology not in PATHOLOGIES:
        return bad(f"pathology {v['pathology']!r} not in {list(PATHOLOGIES)}")
    try:
        abn_id = int(v["abnormality_id"])
        assessment = _int_or_none(v.get("assessment", ""))
        subtlety = _int_or_none(v.get("subtlety", ""))
        density = _int_or_none(v.get("breast_density", ""))
    except ValueError as e:
        return bad(f"non-numeric value ({e})")
    image_path, crop_path, mask_path = (_norm_path(v[k]) for k in ("image_path", "crop_path", "mask_path"))
    if not image_path:
        return bad("empty image file path")
    if not crop_path and not mask_path:
        return bad("empty cropped image and ROI mask file paths")
    split = _split_from(image_path, path)
    if split is None:
        return bad(f"cannot tell the official split from {image_path!r} or the file name")

    def desc(key: str) -> str | None:
        value = v.get(key, "")
        return None if value in ("", "N/A") else value

    return (
        CaseRecord(
            csv_file=path,
            row=row,
            patient_id=pid,
            laterality=laterality,
            view=view,
            abnormality_id=abn_id,
            abnormality_type=atype,
            pathology=pathology,
            split=split,
            image_path=image_path,
            crop_path=crop_path,
            mask_path=mask_path,
            assessment=assessment,
            subtlety=subtlety,
            breast_density=density,
            mass_shape=desc("mass_shape"),
            mass_margins=desc("mass_margins"),
            calc_type=desc("calc_type"),
            calc_distribution=desc("calc_distribution"),
        ),
        None,
    )


def load_case_records(
    root: str | os.PathLike, task: str = "both"
) -> tuple[list[CaseRecord], list[RowProblem], list[str]]:
    """Find and parse every case CSV under ``root`` and keep the rows of ``task``.

    Args:
        root: a CBIS-DDSM download folder (any layout).
        task: ``"mass"``, ``"calcification"`` or ``"both"``.

    Returns:
        ``(records, problems, csv_files)``.

    Raises:
        FileNotFoundError: ``root`` does not exist or holds no case CSVs (the message lists the expected names).
        ValueError: unknown ``task``.
        CaseCSVError: a CSV lacks required columns.
    """
    if task not in ("mass", "calcification", "both"):
        raise ValueError(f"Unsupported task: {task!r}, available options are ['mass', 'calcification', 'both'].")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Cannot find dataset directory: {root} (it does not exist or is not a folder).")
    csv_files = find_case_csvs(root)
    if not csv_files and _is_image_folder(root):
        # ``root`` is the CBIS-DDSM image folder itself and the CSVs sit beside it (TCIA/NBIA downloads).
        csv_files = [f for f in find_case_csvs(root.parent, max_depth=1) if not f.startswith(str(root) + os.sep)]
    if not csv_files:
        names = sorted(CASE_CSV_NAMES.values())
        raise FileNotFoundError(
            f"No CBIS-DDSM case CSVs under {root}; expected one of {names} somewhere below it. Download them "
            "from the CBIS-DDSM page on TCIA and put them in that folder, or pass the folder that holds them."
        )
    records: list[CaseRecord] = []
    problems: list[RowProblem] = []
    for f in csv_files:
        recs, probs = read_case_csv(f)
        records.extend(r for r in recs if task in ("both", r.abnormality_type))
        problems.extend(probs)
    return records, problems, csv_files
