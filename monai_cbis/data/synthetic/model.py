"""The synthetic cohort's data model: series, files, lesions, films, full images, CSV rows (no logic beyond paths).

Example:
    >>> import datetime
    >>> s = SeriesSpec("Mass-Training_P_00001_LEFT_CC_1", "1.2.3", "1.2.4", "ROI mask images",
    ...                datetime.date(2017, 8, 29), True, 2)
    >>> FileSpec(s, 1, "1.2.5", 17).csv_path
    'Mass-Training_P_00001_LEFT_CC_1/1.2.3/1.2.4/000001.dcm'
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from .vocabulary import CSV_NAMES

__all__ = ["SeriesSpec", "FileSpec", "Lesion", "Film", "FullImage", "PlannedRow", "Plan"]


@dataclass(frozen=True)
class SeriesSpec:
    """One DICOM series (every series sits in its own study, as in CBIS-DDSM)."""

    folder: str  # SeriesFolder, also the DICOM PatientID
    study_uid: str
    series_uid: str
    description: str  # "full mammogram images" | "ROI mask images" | "cropped images"
    study_date: _dt.date
    nbia_na: bool  # NBIA study folder spelled "-DDSM-NA-" (else "-DDSM-")
    n_images: int


@dataclass(frozen=True)
class FileSpec:
    """One DICOM file of a series; ``index`` 0 is ``000000.dcm`` (InstanceNumber 1), 1 is ``000001.dcm``."""

    series: SeriesSpec
    index: int
    sop_uid: str
    kaggle_number: int  # the <nnn> of the Kaggle JPEG name <index+1>-<nnn>.jpg

    @property
    def csv_path(self) -> str:
        """The path as the case CSVs spell it."""
        s = self.series
        return f"{s.folder}/{s.study_uid}/{s.series_uid}/{self.index:06d}.dcm"


@dataclass
class Lesion:
    """One abnormality of one woman (one or two CSV rows: its CC and/or MLO view)."""

    key: int  # unique, seeds the lesion's shape so that CC and MLO show the same lesion
    abn_type: str  # "mass" | "calcification"
    pid: str
    split: str  # "train" | "test"
    side: str  # "LEFT" | "RIGHT"
    views: tuple[str, ...]
    pathology: str = "BENIGN"
    descriptors: tuple[str, str] = ("N/A", "N/A")  # (mass shape, mass margins) or (calc type, calc distribution)
    assessment: int = 3
    subtlety: int = 3
    abn_id: int = 1
    locked: bool = False  # pathology fixed by a role; the coverage pass must not change it

    @property
    def malignant(self) -> bool:
        return self.pathology == "MALIGNANT"


@dataclass
class Film:
    """One physical mammogram (woman, side, view): rendered once, written once per type file that lists it."""

    index: int
    pid: str
    side: str
    view: str
    density: int
    rows: int
    cols: int
    bits_stored: int
    lesions: list[Lesion] = field(default_factory=list)


@dataclass(frozen=True)
class FullImage:
    """One full-mammogram DICOM file (one series) of one type file."""

    abn_type: str
    split: str
    film: Film
    file: FileSpec


@dataclass
class PlannedRow:
    """One CSV row and the truth about its files."""

    csv_name: str
    lesion: Lesion
    view: str
    density: int
    image: FullImage
    crop: FileSpec | None = None
    mask: FileSpec | None = None
    separate_series: bool = False
    minority_numbering: bool = False
    swapped: bool = False
    wrong_size: str = ""  # "" | "off" (a few pixels) | "transposed"
    wrong_delta: tuple[int, int] = (0, 0)


@dataclass
class Plan:
    films: list[Film]
    images: list[FullImage]
    csv_rows: dict[str, list[PlannedRow]]  # CSV name -> rows in CSV order

    @property
    def rows(self) -> list[PlannedRow]:
        return [r for name in CSV_NAMES for r in self.csv_rows[name]]
