"""DICOM SR (TID 1500) of detected boxes: read back with pydicom and highdicom, it references its source film and
gives the boxes, scores and labels it was written from."""

from __future__ import annotations

import highdicom as hd
import numpy as np
import pydicom
import pytest
import torch
from dicom_films import COLS, ROWS, write_film
from monai.data import MetaTensor

from monai_cbis.outputs import (
    PRIVATE_SCHEME,
    Algorithm,
    NotADicomSourceError,
    SaveDicomSRd,
    read_detection_sr,
    write_detection_sr,
)

ALGO = Algorithm("retinanet_detection", "0.1.0")
BOXES = [[3.0, 5.0, 9.0, 20.0], [9.5, 15.25, 25.0, 20.0], [0.0, 0.0, float(COLS), float(ROWS)]]
SCORES = [0.91, 0.42, 0.05]


def _texts(item, code: str) -> list[str]:
    """The TEXT values of every content item under ``item`` whose concept name is DCM ``code``."""
    out = []
    for child in item.get("ContentSequence", []):
        if child.ConceptNameCodeSequence[0].CodeValue == code and child.ValueType == "TEXT":
            out.append(child.TextValue)
        out += _texts(child, code)
    return out


@pytest.fixture
def film(tmp_path) -> str:
    return write_film(tmp_path / "films" / "1-1.dcm")


def test_sr_references_its_source_and_gives_the_boxes_back(film, tmp_path):
    out = write_detection_sr(BOXES, SCORES, ["mass", "calcification", "lesion"], film, tmp_path / "sr.dcm", ALGO)
    sr, src = pydicom.dcmread(out), pydicom.dcmread(film)
    assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34" and sr.Modality == "SR"  # Comprehensive 3D SR
    assert sr.StudyInstanceUID == src.StudyInstanceUID and sr.PatientID == src.PatientID
    assert sr.SeriesInstanceUID != src.SeriesInstanceUID
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert evidence.SeriesInstanceUID == src.SeriesInstanceUID
    assert evidence.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == src.SOPInstanceUID
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"

    report = hd.sr.srread(out)
    groups = report.content.get_planar_roi_measurement_groups()
    assert len(groups) == 3
    for group, box in zip(groups, BOXES, strict=True):
        assert group.roi.graphic_type == hd.sr.GraphicTypeValues.POLYLINE
        assert group.roi.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == src.SOPInstanceUID
        points = np.asarray(group.roi.value).reshape(-1, 2)
        assert len(points) == 5 and (points[0] == points[-1]).all()  # a closed rectangle
        x0, y0, x1, y1 = box
        assert {tuple(p) for p in points} == {(x0, y0), (x1, y0), (x1, y1), (x0, y1)}
        assert _texts(group[0], "111001") == ["retinanet_detection"] * 2  # Algorithm Name: the group's, its score's
        assert _texts(group[0], "111003") == ["0.1.0"] * 2  # Algorithm Version
    assert [g.finding_type.value for g in groups] == ["4147007", "129748009", "52988006"]

    found = read_detection_sr(out)
    assert [d["box"] for d in found] == BOXES
    assert [d["score"] for d in found] == pytest.approx(SCORES)
    assert [d["label"] for d in found] == ["mass", "calcification", "lesion"]


def test_class_indices_are_named_and_unknown_names_read_back(film, tmp_path):
    out = write_detection_sr(BOXES[:2], SCORES[:2], [1, 0], film, tmp_path / "sr.dcm", ALGO,
                             label_names=["benign", "malignant"])  # fmt: skip
    assert [d["label"] for d in read_detection_sr(out)] == ["malignant", "benign"]
    groups = hd.sr.srread(out).content.get_planar_roi_measurement_groups()
    assert {g.finding_type.scheme_designator for g in groups} == {PRIVATE_SCHEME}


def test_no_detection_is_a_report_without_findings(film, tmp_path):
    out = write_detection_sr(np.zeros((0, 4)), [], [], film, tmp_path / "sr.dcm", ALGO)
    assert read_detection_sr(out) == []
    assert pydicom.dcmread(out).SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"
    (group,) = hd.sr.srread(out).content.get_image_measurement_groups()
    (summary,) = group.get_qualitative_evaluations()
    assert (summary.name.value, summary.value.value) == ("111017", "111242")  # all algorithms succeeded; no findings


def test_a_box_overshooting_the_film_is_clipped_to_it(film, tmp_path):
    out = write_detection_sr([[-0.4, 2.0, COLS + 0.3, 10.0]], [0.5], ["mass"], film, tmp_path / "sr.dcm", ALGO)
    assert read_detection_sr(out)[0]["box"] == [0.0, 2.0, float(COLS), 10.0]


def test_uids_follow_the_detections(film, tmp_path):
    def uid(scores, name):
        return pydicom.dcmread(
            write_detection_sr(BOXES, scores, ["mass"] * 3, film, tmp_path / name, ALGO)
        ).SOPInstanceUID

    assert uid(SCORES, "a.dcm") == uid(SCORES, "b.dcm") != uid([0.9, 0.4, 0.1], "c.dcm")


@pytest.mark.parametrize(
    "boxes, scores, labels, names, pattern",
    [
        (BOXES, SCORES[:2], ["mass"] * 3, None, r"3 boxes, 2 scores and 3 labels"),
        ([[COLS + 1.0, 0, COLS + 5.0, 4]], [0.5], ["mass"], None, r"box 0 .* covers no part of the 48 x 32"),
        ([[4, 4, 2, 8]], [0.5], ["mass"], None, r"box 0 \[4.0, 4.0, 2.0, 8.0\] covers no part"),
        ([[0, 0, 2, np.nan]], [0.5], ["mass"], None, r"must be finite"),
        ([[0, 0, 2, 2]], [0.5], [3], ["mass", "calcification"], r"label 3 is not a name and has none in"),
    ],
)
def test_bad_detections_are_clear_errors_naming_the_film(film, tmp_path, boxes, scores, labels, names, pattern):
    with pytest.raises(ValueError, match=r"1-1.dcm: .*" + pattern):
        write_detection_sr(boxes, scores, labels, film, tmp_path / "sr.dcm", ALGO, label_names=names)


def test_a_png_source_is_a_clear_error(tmp_path):
    png = tmp_path / "film.png"
    png.write_bytes(b"not read")
    with pytest.raises(NotADicomSourceError, match=r"film.png: a DICOM output needs a DICOM input"):
        write_detection_sr(BOXES, SCORES, ["mass"] * 3, png, tmp_path / "sr.dcm", ALGO)


def test_writer_transform_names_the_sr_after_its_film_below_the_data_root(tmp_path):
    film = write_film(tmp_path / "films" / "a" / "1-1.dcm")
    writer = SaveDicomSRd("box", str(tmp_path / "out"), "retinanet_detection", "0.1.0", ["mass", "calcification"],
                          data_root_dir=str(tmp_path / "films"))  # fmt: skip
    item = {
        "image": MetaTensor(torch.zeros(1, COLS, ROWS), meta={"filename_or_obj": film}),
        "box": torch.tensor(BOXES[:2]),
        "label": torch.tensor([1, 0]),
        "label_scores": torch.tensor(SCORES[:2]),
    }
    assert writer(item)["box"] is item["box"]  # the item goes on unchanged
    found = read_detection_sr(tmp_path / "out" / "a" / "1-1_sr.dcm")
    assert [d["label"] for d in found] == ["calcification", "mass"]
    assert [d["box"] for d in found] == BOXES[:2]  # exact in float32 too
    del item["label_scores"]
    with pytest.raises(KeyError, match=r"needs \['label_scores'\] beside 'box' for .*1-1.dcm"):
        writer(item)
