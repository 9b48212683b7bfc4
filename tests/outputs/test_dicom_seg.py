"""DICOM SEG of a predicted mask: read back with pydicom and highdicom, it references its source film, carries its
geometry, and its frame is the mask pixel for pixel; the writer transform maps MONAI's (C, W, H) layout back."""

from __future__ import annotations

import os

import highdicom as hd
import numpy as np
import pydicom
import pytest
import torch
from dicom_films import COLS, ROWS, write_film
from dicom_films import lesion_mask as _lesion_mask
from monai.data import MetaTensor

from monai_cbis.atomic import is_temporary
from monai_cbis.outputs import (
    Algorithm,
    NotADicomSourceError,
    SaveDicomSeg,
    SaveDicomSegd,
    inputs_for_output_format,
    write_dicom_seg,
)

ALGO = Algorithm("unet_roi", "0.1.0")


@pytest.fixture
def film(tmp_path) -> str:
    return write_film(tmp_path / "films" / "a" / "1-1.dcm")


@pytest.fixture
def lesion_mask() -> np.ndarray:
    return _lesion_mask()


def _frame(path: str, source: pydicom.Dataset) -> np.ndarray:
    """The SEG's lesion frame for ``source``, through highdicom's reader (``(rows, columns)``, bool)."""
    seg = hd.seg.segread(path)
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[source.SOPInstanceUID], segment_numbers=[1]
    )  # (frames, rows, columns, segments)
    assert pixels.shape == (1, source.Rows, source.Columns, 1)
    return pixels[0, :, :, 0].astype(bool)


def test_seg_references_its_source_and_holds_the_mask(film, lesion_mask, tmp_path):
    out = write_dicom_seg(lesion_mask, film, tmp_path / "out" / "1-1_seg.dcm", ALGO)
    seg, src = pydicom.dcmread(out), pydicom.dcmread(film)
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4" and seg.Modality == "SEG"
    assert seg.SegmentationType == "BINARY" and seg.NumberOfFrames == 1
    assert (seg.Rows, seg.Columns) == (src.Rows, src.Columns) == (ROWS, COLS)
    # same study and patient, a series and instance of its own
    assert seg.StudyInstanceUID == src.StudyInstanceUID and seg.PatientID == src.PatientID
    assert seg.SeriesInstanceUID != src.SeriesInstanceUID and seg.SOPInstanceUID != src.SOPInstanceUID
    ref = seg.ReferencedSeriesSequence[0]
    assert ref.SeriesInstanceUID == src.SeriesInstanceUID
    assert ref.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == src.SOPInstanceUID
    assert ref.ReferencedInstanceSequence[0].ReferencedSOPClassUID == src.SOPClassUID
    frame_src = seg.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0]
    assert frame_src.ReferencedSOPInstanceUID == src.SOPInstanceUID
    assert "FrameOfReferenceUID" not in seg  # CBIS-DDSM films have none, and a SEG of them may have none
    # the one segment: lesion, coded, named after the bundle
    (segment,) = seg.SegmentSequence
    assert segment.SegmentLabel == "lesion" and segment.SegmentAlgorithmType == "AUTOMATIC"
    assert segment.SegmentedPropertyTypeCodeSequence[0].CodeValue == "52988006"
    assert segment.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "49755003"
    assert segment.SegmentAlgorithmName == "unet_roi"
    assert segment.SegmentationAlgorithmIdentificationSequence[0].AlgorithmVersion == "0.1.0"
    assert seg.ManufacturerModelName == "unet_roi" and "unet_roi 0.1.0" in seg.SoftwareVersions
    # the mask, pixel for pixel, through pydicom and through highdicom
    np.testing.assert_array_equal(seg.pixel_array.astype(bool), lesion_mask)
    np.testing.assert_array_equal(_frame(out, src), lesion_mask)
    assert not [n for n in os.listdir(tmp_path / "out") if is_temporary(n)]


def test_pixel_spacing_is_copied_when_the_source_has_it(tmp_path, lesion_mask):
    film = write_film(tmp_path / "spaced.dcm", pixel_spacing=[0.05, 0.05])
    seg = pydicom.dcmread(write_dicom_seg(lesion_mask, film, tmp_path / "seg.dcm", ALGO))
    measures = seg.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    assert [float(v) for v in measures.PixelSpacing] == [0.05, 0.05]


def test_an_empty_mask_is_one_empty_frame(film, tmp_path):
    out = write_dicom_seg(np.zeros((ROWS, COLS), bool), film, tmp_path / "seg.dcm", ALGO)
    seg = pydicom.dcmread(out)
    assert seg.NumberOfFrames == 1 and not seg.pixel_array.any()


def test_uids_follow_the_source_bundle_and_mask(film, lesion_mask, tmp_path):
    def uid(mask, algo=ALGO, name="seg.dcm"):
        return pydicom.dcmread(write_dicom_seg(mask, film, tmp_path / name, algo)).SOPInstanceUID

    first = uid(lesion_mask)
    assert uid(lesion_mask, name="again.dcm") == first  # a rerun writes the same instance
    assert uid(~lesion_mask) != first
    assert uid(lesion_mask, Algorithm("unet_roi", "0.2.0")) != first


def test_a_mask_of_another_size_is_a_clear_error(film, lesion_mask, tmp_path):
    with pytest.raises(ValueError, match=r"1-1.dcm: the mask is 32 x 48 .* source image is 48 x 32.*Invertd"):
        write_dicom_seg(lesion_mask.T, film, tmp_path / "seg.dcm", ALGO)
    assert not os.path.exists(tmp_path / "seg.dcm")


def test_a_png_source_is_a_clear_error(lesion_mask, tmp_path):
    png = tmp_path / "film.png"
    png.write_bytes(b"not read")
    with pytest.raises(NotADicomSourceError, match=r"film.png: a DICOM output needs a DICOM input.*'png'"):
        write_dicom_seg(lesion_mask, png, tmp_path / "seg.dcm", ALGO)


def test_writer_transform_reads_monai_layout_and_names_files_like_the_png_writer(film, lesion_mask, tmp_path):
    root = os.path.dirname(os.path.dirname(film))  # .../films; the film is films/a/1-1.dcm
    pred = MetaTensor(torch.from_numpy(lesion_mask.T.copy()).float()[None], meta={"filename_or_obj": film})
    image = MetaTensor(torch.zeros(1, COLS, ROWS), meta={"filename_or_obj": film})
    writer = SaveDicomSegd("pred", output_dir=str(tmp_path / "out"), algorithm_name="unet_roi",
                           algorithm_version="0.1.0", data_root_dir=root)  # fmt: skip
    d = writer({"pred": pred, "image": image})
    assert d["pred"] is pred  # the prediction goes on unchanged
    out = tmp_path / "out" / "a" / "1-1_seg.dcm"
    np.testing.assert_array_equal(_frame(str(out), pydicom.dcmread(film)), lesion_mask)


def test_writer_names_a_lesion_output_after_its_roi_mask_and_references_the_film(film, lesion_mask, tmp_path):
    pred = MetaTensor(torch.from_numpy(lesion_mask.T.copy())[None], meta={"filename_or_obj": "/x/lesion_1/1-2.dcm"})
    image = MetaTensor(torch.zeros(1, COLS, ROWS), meta={"filename_or_obj": film})
    SaveDicomSegd("pred", str(tmp_path), "unet_roi", "0.1.0")({"pred": pred, "image": image})
    seg = pydicom.dcmread(tmp_path / "1-2_seg.dcm")
    src = pydicom.dcmread(film)
    assert seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == src.SOPInstanceUID


def test_writer_without_a_source_file_name_says_what_to_do(tmp_path):
    d = {"pred": MetaTensor(torch.zeros(1, COLS, ROWS)), "image": MetaTensor(torch.zeros(1, COLS, ROWS))}
    with pytest.raises(ValueError, match=r"'image' carries no file name .*LoadImaged"):
        SaveDicomSegd("pred", str(tmp_path), "unet_roi", "0.1.0")(d)


def test_array_writer_refuses_a_multichannel_prediction(film, tmp_path):
    with pytest.raises(ValueError, match=r"expected a \(1, W, H\) or \(W, H\) prediction, got shape \(2, 32, 48\)"):
        SaveDicomSeg(str(tmp_path), "unet_roi", "0.1.0")(torch.zeros(2, COLS, ROWS), film)


def test_output_format_check_names_the_inputs_that_are_not_dicom():
    items = [{"image": "a/1-1.dcm"}] + [{"image": f"film{i}.png"} for i in range(7)]
    assert inputs_for_output_format(items, "png", ["png", "dicom_seg"]) is items
    with pytest.raises(NotADicomSourceError, match=r"7 of 8 are not: film0.png, .*film4.png and 2 more.*'png'"):
        inputs_for_output_format(items, "dicom_seg", ["png", "dicom_seg"])
    with pytest.raises(ValueError, match=r"Unsupported output_format: 'DICOM', available options are"):
        inputs_for_output_format(items, "DICOM", ["png", "dicom_seg"])
