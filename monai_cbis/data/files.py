"""Low-level image file access shared by the indexer, ``verify`` and the loading transforms.

Two operations, both naming the file in every error:

* :func:`read_header` reads only what indexing needs (size, bit depth, photometric interpretation, UIDs). For DICOM
  it stops before the pixel data, so indexing 10,239 files reads a few KB from each; for JPEG/PNG it opens the file
  lazily (Pillow decodes nothing until asked).
* :func:`read_array` decodes the stored pixel values as a 2-D array, with no intensity change (no MONOCHROME1
  inversion, no rescale): those are the loading transforms' job.

Example:
    >>> hdr = read_header("Mass-Training_P_00001_LEFT_CC/1.3.6.../1.3.6.../000000.dcm")  # doctest: +SKIP
    >>> hdr.shape, hdr.bits_stored  # doctest: +SKIP
    ((5000, 3000), 16)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ImageHeader",
    "UnreadableImageError",
    "read_header",
    "read_array",
    "is_dicom_path",
    "is_lossy_path",
    "DICOM_SUFFIXES",
    "RASTER_SUFFIXES",
]

DICOM_SUFFIXES = (".dcm", ".dicom")
RASTER_SUFFIXES = (".jpg", ".jpeg", ".png")

# Tags needed to index a file; everything else in the header is skipped.
_HEADER_TAGS = (
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "PhotometricInterpretation",
    "SamplesPerPixel",
    "SeriesInstanceUID",
    "StudyInstanceUID",
    "SeriesDescription",
    "PatientID",
    "NumberOfFrames",
)


class UnreadableImageError(ValueError):
    """A file that should be an image could not be read; the message names the file and the cause."""


@dataclass(frozen=True)
class ImageHeader:
    """What indexing needs to know about one image file.

    Attributes:
        path: the file.
        rows, columns: the stored image size (height, width).
        bits_stored: significant bits per sample (8 for JPEG/PNG masks and crops, usually 16 for DICOM images).
        photometric: DICOM PhotometricInterpretation (``MONOCHROME2`` for JPEG/PNG grey images).
        samples_per_pixel: 1 for grey, 3 for colour.
        series_uid, study_uid, series_description, patient_id: DICOM identifiers ("" where absent).
    """

    path: str
    rows: int
    columns: int
    bits_stored: int
    photometric: str = "MONOCHROME2"
    samples_per_pixel: int = 1
    series_uid: str = ""
    study_uid: str = ""
    series_description: str = ""
    patient_id: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return (self.rows, self.columns)


def is_dicom_path(path: str | os.PathLike) -> bool:
    """True for ``.dcm``/``.dicom`` names (case-insensitive)."""
    return str(path).lower().endswith(DICOM_SUFFIXES)


def is_lossy_path(path: str | os.PathLike) -> bool:
    """True for JPEG names: their masks carry compression noise around 0 and 255."""
    return str(path).lower().endswith((".jpg", ".jpeg"))


def read_header(path: str | os.PathLike) -> ImageHeader:
    """Read the size and identifiers of a DICOM, JPEG or PNG file without decoding its pixels.

    Raises:
        UnreadableImageError: missing file, not an image, a header without Rows/Columns, a DICOM file shorter
            than its uncompressed pixel data (a truncated download), or one that holds several frames (3-D).
    """
    path = str(path)
    if not os.path.isfile(path):
        raise UnreadableImageError(f"{path}: file not found.")
    if is_dicom_path(path):
        return _read_dicom_header(path)
    return _read_raster_header(path)


def _read_dicom_header(path: str) -> ImageHeader:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(_HEADER_TAGS) + ["TransferSyntaxUID"])
    except InvalidDicomError as e:
        raise UnreadableImageError(f"{path}: not a DICOM file ({e}). Re-download it or remove it.") from e
    except Exception as e:  # pydicom raises assorted errors (EOFError, struct.error, ...) on damaged files
        raise UnreadableImageError(f"{path}: damaged DICOM header ({type(e).__name__}: {e}). Re-download it.") from e
    rows, cols = ds.get("Rows"), ds.get("Columns")
    if not rows or not cols:
        raise UnreadableImageError(f"{path}: DICOM header has no Rows/Columns, so it holds no image.")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise UnreadableImageError(
            f"{path}: holds {frames} frames (a 3-D volume or a multi-frame series), not a 2-D mammogram."
        )
    bits_alloc = int(ds.get("BitsAllocated", 16) or 16)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    tsuid = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if tsuid is None or not tsuid.is_compressed:
        expected = int(rows) * int(cols) * samples * max(bits_alloc // 8, 1)
        size = os.path.getsize(path)
        if size < expected:
            raise UnreadableImageError(
                f"{path}: truncated DICOM ({size} bytes on disk, but {rows}x{cols} pixels of {bits_alloc} bits need "
                f"{expected}). Re-download it."
            )
    return ImageHeader(
        path=path,
        rows=int(rows),
        columns=int(cols),
        bits_stored=int(ds.get("BitsStored", bits_alloc) or bits_alloc),
        photometric=str(ds.get("PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2"),
        samples_per_pixel=samples,
        series_uid=str(ds.get("SeriesInstanceUID", "") or ""),
        study_uid=str(ds.get("StudyInstanceUID", "") or ""),
        series_description=str(ds.get("SeriesDescription", "") or ""),
        patient_id=str(ds.get("PatientID", "") or ""),
    )


def _read_raster_header(path: str) -> ImageHeader:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            width, height = im.size
            mode = im.mode
    except UnidentifiedImageError as e:
        raise UnreadableImageError(f"{path}: not a JPEG/PNG image ({e}).") from e
    except OSError as e:
        raise UnreadableImageError(f"{path}: cannot read image header ({e}).") from e
    bits = 16 if mode in ("I;16", "I;16B", "I;16L", "I") else 8
    samples = 1 if mode in ("L", "1", "P", "I;16", "I;16B", "I;16L", "I", "F") else len(mode)
    return ImageHeader(path=path, rows=int(height), columns=int(width), bits_stored=bits, samples_per_pixel=samples)


def read_array(path: str | os.PathLike) -> np.ndarray:
    """Decode the stored pixel values of a DICOM, JPEG or PNG file as a 2-D ``(rows, columns)`` array.

    Colour rasters are reduced to their first channel only if all channels are equal; otherwise an error says so.
    No photometric inversion or rescale is applied.

    Raises:
        UnreadableImageError: the file is missing, damaged or truncated, or is not a single-channel image.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise UnreadableImageError(f"{path}: file not found.")
    if is_dicom_path(path):
        import pydicom

        try:
            arr = pydicom.dcmread(path).pixel_array
        except Exception as e:  # damaged or truncated pixel data, missing decoder plugin
            raise UnreadableImageError(f"{path}: cannot decode DICOM pixel data ({type(e).__name__}: {e}).") from e
    else:
        from PIL import Image

        try:
            with Image.open(path) as im:
                im.load()
                arr = np.asarray(im)
        except Exception as e:
            raise UnreadableImageError(f"{path}: cannot decode image ({type(e).__name__}: {e}).") from e
    if arr.ndim == 3:
        if (
            arr.shape[-1] in (3, 4)
            and np.array_equal(arr[..., 0], arr[..., 1])
            and np.array_equal(arr[..., 0], arr[..., 2])
        ):
            arr = arr[..., 0]
        else:
            raise UnreadableImageError(
                f"{path}: expected a single-channel (grey) image, got an array of shape {arr.shape}."
            )
    if arr.ndim != 2:
        raise UnreadableImageError(f"{path}: expected a 2-D image, got an array of shape {arr.shape}.")
    return arr
