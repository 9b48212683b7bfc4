"""What every DICOM output shares: the source image it derives from, its new UIDs, who made it, writing it atomically.

A DICOM SEG or SR references one source image by its Study, Series and SOP Instance UIDs and copies that image's
patient and study module (highdicom does the copying). CBIS-DDSM's films are Secondary Capture images converted from
scanned film: no frame of reference, no pixel spacing, and none of the study's type-2 attributes that a derived
object must carry (StudyTime, AccessionNumber, ReferringPhysicianName, ...). :func:`read_source` reads the header
only (not the pixels) and fills each missing type-2 attribute with an empty value, in memory: the source file is never
changed. :func:`derived_uid` gives the same UID for the same input and content, so a rerun overwrites a file with an
identical one instead of piling up new instances in a PACS.

Example:
    >>> uid = derived_uid("1.2.3", "unet_roi", "0.1.0", "seg")
    >>> uid == derived_uid("1.2.3", "unet_roi", "0.1.0", "seg") != derived_uid("1.2.3", "unet_roi", "0.1.0", "sr")
    True
    >>> Algorithm("unet_roi", "0.1.0").software_versions
    'unet_roi 0.1.0 (monai-cbis 0.1.0)'
"""

from __future__ import annotations

import logging
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

from monai.data import MetaTensor

from .. import __version__
from ..atomic import atomic_write
from ..data.files import DICOM_SUFFIXES, is_dicom_path

__all__ = ["Algorithm", "NotADicomSourceError", "derived_uid", "read_source", "save_dicom", "quiet_highdicom"]

#: Type-2 attributes of the patient and general study modules that a derived object copies from its source: present
#: in every valid image, possibly empty, but missing from CBIS-DDSM's converted films (and the synthetic copy).
_TYPE2_SOURCE_ATTRIBUTES = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
)
#: Attributes without which a derived object cannot reference its source.
_REQUIRED_SOURCE_ATTRIBUTES = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Rows",
                               "Columns")  # fmt: skip


class NotADicomSourceError(ValueError):
    """A DICOM output was asked for an input that is not a DICOM image it can reference (the message says why)."""


@dataclass(frozen=True)
class Algorithm:
    """The model that made an output, as the DICOM object names it (segment algorithm, SR observer device).

    Attributes:
        name: the bundle's name (``unet_roi``).
        version: the bundle's version (``metadata.json``'s ``version``).
    """

    name: str
    version: str

    manufacturer = "monai-cbis"

    @property
    def software_versions(self) -> str:
        """``"<name> <version> (monai-cbis <package version>)"``: SoftwareVersions of the written object."""
        return f"{self.name} {self.version} (monai-cbis {__version__})"


def derived_uid(*parts: object) -> str:
    """A UID that depends only on ``parts`` (pydicom's root plus a hash of them): reruns give the same UIDs."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=[str(p) for p in parts]))


def read_source(path: str | os.PathLike):
    """The header of the source image ``path`` (no pixel data), ready for highdicom to derive an object from.

    Missing type-2 patient/study attributes are added empty (see the module docstring); the file is not changed.

    Raises:
        NotADicomSourceError: ``path`` is not a DICOM file (PNG/JPEG inputs have no UIDs to reference), cannot be
            read as one, lacks a UID or the image size, or holds several frames.
    """
    import pydicom

    path = str(path)
    if not is_dicom_path(path):
        raise NotADicomSourceError(
            f"{path}: a DICOM output needs a DICOM input ({list(DICOM_SUFFIXES)}) whose Study/Series/SOP Instance "
            "UIDs it can reference; this is not one. Use output_format 'png' for PNG/JPEG inputs."
        )
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception as e:  # pydicom raises assorted errors on damaged files
        raise NotADicomSourceError(f"{path}: cannot read its DICOM header ({type(e).__name__}: {e}).") from e
    missing = [a for a in _REQUIRED_SOURCE_ATTRIBUTES if not ds.get(a)]
    if missing:
        raise NotADicomSourceError(f"{path}: the DICOM header lacks {missing}, so no output can reference the image.")
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        raise NotADicomSourceError(f"{path}: holds {ds.NumberOfFrames} frames; DICOM outputs here are for 2-D films.")
    for attr in _TYPE2_SOURCE_ATTRIBUTES:
        if attr not in ds:
            setattr(ds, attr, "")
    return ds


@contextmanager
def quiet_highdicom():
    """A context that hides highdicom's warning about single-component person names (CBIS-DDSM's PatientName is
    the series folder, ``Calc-Test_P_00038_LEFT_CC``, which the derived object must copy as it is) and its INFO log
    lines (a dozen per object, "copy attributes of module ...", which a bundle's INFO logging would print for every
    film)."""
    logger = logging.getLogger("highdicom")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*unlikely to represent the intended person name.*")
            yield
    finally:
        logger.setLevel(level)


def save_dicom(ds, path: str | os.PathLike) -> str:
    """Write ``ds`` (a highdicom object) to ``path`` as a DICOM file, atomically (temporary file, then rename).

    Returns the path. Works with pydicom 3 (``enforce_file_format``) and 2.4 (``write_like_original``).
    """
    import pydicom

    def write(f) -> None:
        if int(pydicom.__version__.split(".")[0]) >= 3:
            ds.save_as(f, enforce_file_format=True)
        else:
            ds.save_as(f, write_like_original=False)

    return atomic_write(path, write, mode="wb")


def source_file(data, source_key, writer: str, kind: str) -> str:
    """The file name (``filename_or_obj``) of ``data[source_key]``, the image a derived DICOM object references.

    Raises:
        ValueError: the item carries no file name there (the message names ``writer``, ``kind`` and the fix).
    """
    source = data.get(source_key)
    path = source.meta.get("filename_or_obj") if isinstance(source, MetaTensor) else None
    if not path:
        raise ValueError(
            f"{writer}: {source_key!r} carries no file name (filename_or_obj), so the {kind} has no source "
            "image to reference; load it with LoadImaged / LoadMammogramd."
        )
    return str(path)
