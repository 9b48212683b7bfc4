"""Outputs clinical viewers open: DICOM Segmentation (SEG) of predicted masks and DICOM Structured Reports (SR,
TID 1500) of detected boxes, both referencing the mammogram they were predicted on; and the ``output_format`` check
of a bundle's inference inputs. Built on highdicom; PNG masks and JSON/CSV stay the bundles' default outputs.

Example:
    >>> from monai_cbis.outputs import DICOM_OUTPUT_FORMATS
    >>> DICOM_OUTPUT_FORMATS
    ('dicom_seg', 'dicom_sr')
"""

from __future__ import annotations

from .dicom_seg import SEGMENT_LABEL, SaveDicomSeg, SaveDicomSegd, segmentation_from_mask, write_dicom_seg
from .dicom_source import Algorithm, NotADicomSourceError, derived_uid, read_source, save_dicom
from .dicom_sr import (
    PRIVATE_SCHEME,
    SaveDicomSRd,
    detection_report,
    detections_from_report,
    read_detection_sr,
    write_detection_sr,
)
from .formats import DICOM_OUTPUT_FORMATS, inputs_for_output_format

__all__ = [
    "Algorithm",
    "DICOM_OUTPUT_FORMATS",
    "NotADicomSourceError",
    "PRIVATE_SCHEME",
    "SEGMENT_LABEL",
    "SaveDicomSeg",
    "SaveDicomSegd",
    "SaveDicomSRd",
    "derived_uid",
    "detection_report",
    "detections_from_report",
    "inputs_for_output_format",
    "read_detection_sr",
    "read_source",
    "save_dicom",
    "segmentation_from_mask",
    "write_detection_sr",
    "write_dicom_seg",
]
