"""Where a CBIS-DDSM record's files are on disk, in the three layouts users actually have.

1. ``classic``: the TCIA tree, identical to the CSV paths
   (``<SeriesFolder>/<StudyUID>/<SeriesUID>/00000x.dcm``).
2. ``nbia``: the NBIA Data Retriever "descriptive" tree
   (``<SeriesFolder>/<MM-DD-YYYY>-DDSM-NA-<5 digits>/1.000000-<description>-<5 digits>/1-1.dcm``).
3. ``kaggle``: the JPEG conversion (``jpeg/<SeriesInstanceUID>/<n>-<nnn>.jpg``, CSVs under ``csv/``).

Every series folder of CBIS-DDSM belongs to one image (``Mass-Training_P_00001_LEFT_CC``) or to one CSV row
(``Mass-Training_P_00001_LEFT_CC_1``), so for the classic and NBIA trees the candidate files of a record are simply
the files under its series folder, whatever the study/series directories and files are called. For the Kaggle tree
they are the files of ``jpeg/<SeriesInstanceUID>/`` for the series UIDs in the CSV paths. Which candidate is the mask
and which is the crop is never decided here (the CSV columns cannot be trusted): see
:func:`monai_cbis.data.indexer.index_collection`.

Example:
    >>> layout = detect_layout("/data/CBIS-DDSM")  # doctest: +SKIP
    >>> layout.name, layout.image_candidates(record)  # doctest: +SKIP
    ('nbia', ['/data/CBIS-DDSM/Mass-Training_P_00001_LEFT_CC/07-20-2016-DDSM-74994/1.000000-full mammogram...'])
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .files import DICOM_SUFFIXES, RASTER_SUFFIXES
from .records import SERIES_FOLDER_RE, CaseRecord

__all__ = ["Layout", "LAYOUTS", "detect_layout", "LayoutError"]

LAYOUTS = ("classic", "nbia", "kaggle")

_NBIA_STUDY_RE = re.compile(r"^\d{2}-\d{2}-\d{4}-")
_UID_RE = re.compile(r"^\d+(\.\d+){4,}$")
_IMAGE_SUFFIXES = DICOM_SUFFIXES + RASTER_SUFFIXES


class LayoutError(FileNotFoundError):
    """The folder holds no CBIS-DDSM images in any supported layout; the message says what was looked for."""


@dataclass
class Layout:
    """A detected on-disk layout and how to find a record's candidate files in it.

    Attributes:
        name: ``classic`` | ``nbia`` | ``kaggle``.
        image_root: the folder holding the series folders (classic, nbia) or the ``jpeg`` folder (kaggle).
    """

    name: str
    image_root: str
    #: (kaggle) series folder name (dicom_info ``PatientID``) -> JPEG files, from ``csv/dicom_info.csv`` when present
    by_series_folder: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _listing: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def image_candidates(self, record: CaseRecord) -> list[str]:
        """Files that may be the record's full mammogram."""
        if self.name == "kaggle":
            return self._kaggle_files([record.image_path])
        return self._files_under(record.image_series)

    def roi_candidates(self, record: CaseRecord) -> list[str]:
        """Files that may be the record's ROI mask or cropped image (both CSV columns pooled)."""
        if self.name == "kaggle":
            return self._kaggle_files([record.crop_path, record.mask_path])
        series = {p.split("/", 1)[0] for p in (record.crop_path, record.mask_path) if p}
        out = []
        for s in sorted(series):
            out.extend(self._files_under(s))
        return sorted(set(out))

    def csv_location(self, csv_path: str) -> str | None:
        """Where the CSV path itself points in this layout (classic only; the others rename files)."""
        if self.name != "classic" or not csv_path:
            return None
        return os.path.join(self.image_root, *csv_path.split("/"))

    def _kaggle_files(self, csv_paths: list[str]) -> list[str]:
        """``jpeg/<SeriesUID>/`` of each CSV path, plus what dicom_info.csv lists for its series folder."""
        out: set[str] = set()
        for p in csv_paths:
            if not p:
                continue
            out.update(self._files_in(os.path.join(self.image_root, _series_uid(p))))
            out.update(f for f in self.by_series_folder.get(p.split("/", 1)[0], []) if os.path.isfile(f))
        return sorted(out)

    # -- listing helpers (cached: a series folder is listed once even when several rows share it) --
    def _files_in(self, folder: str) -> list[str]:
        if folder not in self._listing:
            try:
                names = sorted(os.listdir(folder))
            except (FileNotFoundError, NotADirectoryError):
                names = []
            self._listing[folder] = [
                os.path.join(folder, n)
                for n in names
                if n.lower().endswith(_IMAGE_SUFFIXES) and os.path.isfile(os.path.join(folder, n))
            ]
        return self._listing[folder]

    def _files_under(self, series_folder: str) -> list[str]:
        top = os.path.join(self.image_root, series_folder)
        if top not in self._listing:
            files: list[str] = []
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames.sort()
                files.extend(os.path.join(dirpath, n) for n in sorted(filenames) if n.lower().endswith(_IMAGE_SUFFIXES))
            self._listing[top] = files
        return self._listing[top]


def _series_uid(csv_path: str) -> str:
    """The SeriesInstanceUID in a CSV path: its third component."""
    parts = csv_path.split("/")
    return parts[2] if len(parts) >= 3 else ""


def _subdirs(path: str) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(path) if e.is_dir())
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def _find_dirs(root: str, predicate, max_depth: int) -> list[str]:
    """Breadth-first search for folders satisfying ``predicate`` (not descending into the ones that do)."""
    found, frontier = [], [root]
    for _ in range(max_depth + 1):
        nxt = []
        for d in frontier:
            if predicate(d):
                found.append(d)
                continue
            nxt.extend(
                os.path.join(d, s) for s in _subdirs(d) if not SERIES_FOLDER_RE.match(s) and not _UID_RE.match(s)
            )
        if found:
            return found
        frontier = nxt
    return found


def _holds_series_folders(d: str) -> bool:
    return any(SERIES_FOLDER_RE.match(s) for s in _subdirs(d))


def _is_kaggle_jpeg_dir(d: str) -> bool:
    return os.path.basename(d).lower() == "jpeg" and any(_UID_RE.match(s) for s in _subdirs(d))


def detect_layout(root: str | os.PathLike, max_depth: int = 3) -> Layout:
    """Detect the layout of a CBIS-DDSM download.

    ``root`` may be the folder that holds ``CBIS-DDSM/`` or that folder itself (or the Kaggle folder holding
    ``jpeg/`` and ``csv/``); the image folder is searched up to ``max_depth`` levels below it.

    Raises:
        LayoutError: no series folders (``Mass-Training_P_00001_LEFT_CC`` ...) and no Kaggle ``jpeg/<UID>/``
            folder were found; the message says so and lists what ``root`` contains.
    """
    root = os.path.abspath(root)
    series_roots = _find_dirs(root, _holds_series_folders, max_depth)
    if series_roots:
        image_root = series_roots[0]
        return Layout(name=_classic_or_nbia(image_root), image_root=image_root)
    jpeg_dirs = _find_dirs(root, _is_kaggle_jpeg_dir, max_depth)
    if jpeg_dirs:
        return Layout(name="kaggle", image_root=jpeg_dirs[0], by_series_folder=_read_dicom_info(root, jpeg_dirs[0]))
    try:
        content = sorted(os.listdir(root))[:10]
    except OSError:
        content = []
    raise LayoutError(
        f"No CBIS-DDSM images under {root}: found no series folders such as 'Mass-Training_P_00001_LEFT_CC' "
        f"(classic TCIA or NBIA tree) and no Kaggle 'jpeg/<SeriesInstanceUID>/' folder within {max_depth} levels. "
        f"The folder contains {content}. Pass the folder that holds 'CBIS-DDSM/' (or 'jpeg/' and 'csv/')."
    )


def _classic_or_nbia(image_root: str) -> str:
    votes = {"classic": 0, "nbia": 0}
    for s in [s for s in _subdirs(image_root) if SERIES_FOLDER_RE.match(s)][:20]:
        for study in _subdirs(os.path.join(image_root, s)):
            if _NBIA_STUDY_RE.match(study):
                votes["nbia"] += 1
            elif _UID_RE.match(study):
                votes["classic"] += 1
    return "nbia" if votes["nbia"] > votes["classic"] else "classic"


def _read_dicom_info(root: str, jpeg_dir: str) -> dict[str, list[str]]:
    """Map series folder (``PatientID``) -> JPEG paths from the Kaggle ``dicom_info.csv`` (empty if absent/odd).

    ``image_path`` reads ``CBIS-DDSM/jpeg/<SeriesUID>/<file>.jpg``; the part after ``jpeg/`` is joined to the
    ``jpeg`` folder actually found, since the ``CBIS-DDSM/`` prefix does not exist on disk.
    """
    import csv

    candidates = [os.path.join(os.path.dirname(jpeg_dir), "csv", "dicom_info.csv"), os.path.join(root, "csv",
                  "dicom_info.csv"), os.path.join(root, "dicom_info.csv")]  # fmt: skip
    path = next((c for c in candidates if os.path.isfile(c)), None)
    out: dict[str, list[str]] = {}
    if path is None:
        return out
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            for row in csv.DictReader(f):
                folder, image = (row.get("PatientID") or "").strip(), (row.get("image_path") or "").strip()
                tail = image.replace("\\", "/").split("jpeg/", 1)
                if folder and len(tail) == 2:
                    out.setdefault(folder, []).append(os.path.join(jpeg_dir, *tail[1].split("/")))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}  # the listing of jpeg/<SeriesUID>/ still works; dicom_info is only a fall-back
    return out
