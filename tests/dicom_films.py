"""Source mammograms for the DICOM output tests: small synthetic DICOM films like CBIS-DDSM's (Secondary Capture, no
frame of reference, no spacing, no StudyTime), optionally with PixelSpacing, and a lesion mask on them. Importable
because pyproject's pytest ``pythonpath`` lists ``tests``."""

from __future__ import annotations

import numpy as np
import pydicom

from monai_cbis.data.synthetic.encode import DicomHeader, dicom_bytes, write_dicom_file

ROWS, COLS = 48, 32  # not square, so a transposed mask cannot pass


def write_film(path, sop_uid: str = "1.2.826.0.1.3680043.8.498.1", pixel_spacing=None) -> str:
    header = DicomHeader(sop_uid, sop_uid + ".1", sop_uid + ".2", "Calc-Test_P_00038_LEFT_CC",
                         "full mammogram images", "L", "20170829", 1, 16)  # fmt: skip
    pixels = (np.arange(ROWS * COLS, dtype=np.uint16).reshape(ROWS, COLS) * 7) % 4096
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dicom_bytes(pixels, header))
    if pixel_spacing is not None:
        ds = pydicom.dcmread(str(path))
        ds.PixelSpacing = list(pixel_spacing)
        write_dicom_file(ds, str(path))
    return str(path)


def lesion_mask() -> np.ndarray:
    """``(ROWS, COLS)``: an L-shaped lesion off the diagonal, so flips and transposes show."""
    m = np.zeros((ROWS, COLS), bool)
    m[5:20, 3:9] = True
    m[15:20, 9:25] = True
    return m
