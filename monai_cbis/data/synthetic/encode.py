"""Encode synthetic images as CBIS-DDSM-like DICOM (Secondary Capture, MONOCHROME2) or as Kaggle-style 8-bit JPEG.

Both encoders are deterministic: no timestamps, no generated UIDs; every identifier comes from the plan.

Example:
    >>> import numpy as np
    >>> hdr = DicomHeader("1.2.3", "1.2.4", "1.2.5", "Calc-Test_P_00038_LEFT_CC", "full mammogram images", "L",
    ...                   "20170829", 1, 16)
    >>> data = dicom_bytes(np.zeros((4, 3), np.uint16), hdr)
    >>> data[128:132]
    b'DICM'
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

import cv2
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, SecondaryCaptureImageStorage

__all__ = ["DicomHeader", "dicom_bytes", "jpeg_bytes", "to_uint8", "write_dicom_file"]

_JPEG_QUALITY = 92


@dataclass(frozen=True)
class DicomHeader:
    """The identifying tags of one synthetic DICOM file (pixel-format tags come from the array)."""

    sop_uid: str
    study_uid: str
    series_uid: str
    patient_id: str  # the SeriesFolder, as in CBIS-DDSM
    series_description: str
    laterality: str  # "L" | "R"
    study_date: str  # YYYYMMDD
    instance_number: int
    bits_stored: int  # 8 for masks; 12 or 16 for full images and crops
    pixel_spacing_mm: float | None = None  # PixelSpacing, written only when given (realistic lesions)

    def tags(self, rows: int, columns: int) -> dict[str, object]:
        """The tags as a flat dict (the Kaggle ``dicom_info.csv`` row is built from these)."""
        bits_allocated = 8 if self.bits_stored == 8 else 16
        return {
            "AccessionNumber": "",
            "BitsAllocated": bits_allocated,
            "BitsStored": self.bits_stored,
            "BodyPartExamined": "BREAST",
            "Columns": columns,
            "ConversionType": "WSD",
            "HighBit": self.bits_stored - 1,
            "InstanceNumber": self.instance_number,
            "Laterality": self.laterality,
            "Modality": "MG",
            "PatientID": self.patient_id,
            "PatientName": self.patient_id,
            "PhotometricInterpretation": "MONOCHROME2",
            "PixelRepresentation": 0,
            "Rows": rows,
            "SOPClassUID": SecondaryCaptureImageStorage,
            "SOPInstanceUID": self.sop_uid,
            "SamplesPerPixel": 1,
            "SeriesDescription": self.series_description,
            "SeriesInstanceUID": self.series_uid,
            "SeriesNumber": 1,
            "StudyDate": self.study_date,
            "StudyID": "DDSM",
            "StudyInstanceUID": self.study_uid,
        } | ({} if self.pixel_spacing_mm is None else {"PixelSpacing": [self.pixel_spacing_mm] * 2})


def dicom_bytes(pixels: np.ndarray, header: DicomHeader) -> bytes:
    """A complete Part-10 DICOM file (explicit VR little endian, uncompressed) holding ``pixels``.

    Args:
        pixels: 2-D ``uint16`` (full image, crop) or ``uint8`` (mask) array.
        header: identifiers; ``header.bits_stored`` must fit the values.

    Raises:
        ValueError: wrong dtype/ndim, or values that do not fit ``bits_stored``.
    """
    if pixels.ndim != 2 or pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"Expected a 2-D uint8 or uint16 array, got {pixels.dtype} of shape {pixels.shape}.")
    if (pixels.dtype == np.uint8) != (header.bits_stored == 8):
        raise ValueError(f"bits_stored={header.bits_stored} does not match a {pixels.dtype} array.")
    if pixels.size and int(pixels.max()) >= (1 << header.bits_stored):
        raise ValueError(f"Pixel values up to {int(pixels.max())} do not fit BitsStored={header.bits_stored}.")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = header.sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "MONAI_CBIS_SYN"  # fixed, so the bytes do not depend on the pydicom version
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    for name, value in header.tags(*pixels.shape).items():
        setattr(ds, name, value)
    ds.ReferringPhysicianName = ""
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.PatientOrientation = ""
    data = np.ascontiguousarray(pixels, dtype="<u2" if pixels.dtype == np.uint16 else np.uint8).tobytes()
    if len(data) % 2:
        data += b"\x00"  # DICOM values have even length
    ds.PixelData = data
    ds["PixelData"].VR = "OW" if pixels.dtype == np.uint16 else "OB"
    buf = BytesIO()
    write_dicom_file(ds, buf)
    return buf.getvalue()


def write_dicom_file(ds: Dataset, fp) -> None:
    """Write ``ds`` as a DICOM file (preamble, ``DICM``, file meta group) with pydicom 3 or 2.4.

    pydicom 3 calls this ``enforce_file_format=True``; pydicom 2 (MONAI Label's environment,
    ``constraints/monailabel.txt``) ``write_like_original=False``, which pydicom 3 deprecates.
    """
    if int(pydicom.__version__.split(".")[0]) >= 3:
        ds.save_as(fp, enforce_file_format=True)
    else:
        ds.save_as(fp, write_like_original=False)


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Rescale an image's own min..max to 0..255 (how the Kaggle conversion lost the 16-bit range)."""
    if pixels.dtype == np.uint8:
        return pixels
    lo, hi = float(pixels.min()), float(pixels.max())
    scaled = (pixels.astype(np.float32) - lo) * (255.0 / max(hi - lo, 1.0))
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def jpeg_bytes(pixels: np.ndarray) -> bytes:
    """8-bit greyscale JPEG (lossy: a 0/255 mask comes back with compression noise near its edges)."""
    ok, buf = cv2.imencode(".jpg", to_uint8(pixels), [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:  # pragma: no cover - OpenCV failure
        raise RuntimeError(f"OpenCV could not encode a {pixels.shape} image as JPEG.")
    return buf.tobytes()
