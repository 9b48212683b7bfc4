"""The written SEG and SR pass dciodvfy (David Clunie's DICOM validator, Debian's dicom3tools) without an error.

dciodvfy checks every module and attribute the IOD requires; its warnings about the source film's own attributes
(CBIS-DDSM's PatientName is the series folder, a one-component name; the films have no StudyTime) are copied from
the source and allowed. Skipped where dicom3tools is not installed, except in CI (``CI`` set), which installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
from dicom_films import lesion_mask, write_film

from monai_cbis.outputs import Algorithm, write_detection_sr, write_dicom_seg

DCIODVFY = shutil.which("dciodvfy")

pytestmark = pytest.mark.skipif(
    DCIODVFY is None and not os.environ.get("CI"),
    reason="dciodvfy not installed (apt-get install dicom3tools); CI installs it and runs this test",
)


def _errors(path) -> list[str]:
    assert DCIODVFY is not None, "CI must have dciodvfy: .ci/run installs Debian's dicom3tools"
    proc = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, timeout=60)
    lines = (proc.stdout + proc.stderr).splitlines()
    iod = {"Segmentation", "Comprehensive3DSR"} & {ln.strip() for ln in lines}
    assert iod, f"dciodvfy did not recognise the IOD of {path}:\n" + "\n".join(lines)
    return [ln for ln in lines if ln.startswith("Error")]


@pytest.fixture
def film(tmp_path) -> str:
    return write_film(tmp_path / "films" / "1-1.dcm")


def test_seg_is_a_valid_segmentation(film, tmp_path):
    assert _errors(write_dicom_seg(lesion_mask(), film, tmp_path / "seg.dcm", Algorithm("unet_roi", "0.1.0"))) == []


def test_seg_of_a_film_with_spacing_and_orientation_is_valid(tmp_path):
    film = write_film(tmp_path / "spaced.dcm", pixel_spacing=[0.05, 0.05])
    seg = write_dicom_seg(np.zeros_like(lesion_mask()), film, tmp_path / "seg.dcm", Algorithm("unet_roi", "0.1.0"))
    assert _errors(seg) == []


@pytest.mark.parametrize("n", [2, 0])
def test_sr_is_a_valid_comprehensive_3d_sr(film, tmp_path, n):
    boxes, scores, labels = [[3, 5, 9, 20], [9.5, 15.25, 25, 20]][:n], [0.9, 0.4][:n], ["mass", "calcification"][:n]
    sr = write_detection_sr(boxes, scores, labels, film, tmp_path / "sr.dcm", Algorithm("retinanet_detection", "0.1"))
    assert _errors(sr) == []
