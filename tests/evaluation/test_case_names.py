"""Per-case report files a person can read (issue 10): rows and overlays named by the case, its fields as columns.

Items carry the ``case`` dict of :mod:`monai_cbis.data.case_fields` through a real DataLoader (collated, then
decollated by the evaluator); two lesions of one film are two cases; an item without one keeps the path-based name.
"""

from __future__ import annotations

import json
import os

import numpy as np
import torch
from ignite.engine import Engine
from monai.data import DataLoader, MetaTensor
from monai.engines import SupervisedEvaluator

from monai_cbis.data.case_fields import CASE_COLUMNS
from monai_cbis.evaluation import (
    CLASSIFICATION_CSV_COLUMNS,
    DETECTION_CSV_COLUMNS,
    ClassificationReportHandler,
    DetectionReportHandler,
    SegmentationReportHandler,
    read_csv,
)


def case(name, abnormality_id="1", pathology="MALIGNANT", **extra):
    fields = {"name": name, "patient_id": "P_" + name.split("_P_")[1][:5], "laterality": "RIGHT",
              "view": "CC", "abnormality_id": abnormality_id, "abnormality_type": "mass", "pathology": pathology,
              "breast_density": "3", "subtlety": "4"}  # fmt: skip
    return {**fields, **extra}


def square(r0, c0, size=4):
    a = np.zeros((1, 16, 16), np.float32)
    a[0, r0 : r0 + size, c0 : c0 + size] = 1
    return a


class Echo(torch.nn.Module):
    def forward(self, x):
        return x[:, :1] * 1.0


FILM = "/data/Mass-Test_P_00477_RIGHT_CC/1-1.dcm"
# two lesions of one film (unet_roi's abnormality level: same image file), one other film, one bare file (no case)
SEG_ITEMS = [
    (FILM, case("Mass-Test_P_00477_RIGHT_CC_1"), square(2, 2)),
    (FILM, case("Mass-Test_P_00477_RIGHT_CC_2", "2", "BENIGN"), square(9, 9)),
    ("/data/Mass-Test_P_00009_LEFT_MLO/1-1.dcm", case("Mass-Test_P_00009_LEFT_MLO"), square(4, 4)),
]


def seg_loader(with_bare=True):
    data = [
        {"image": MetaTensor(m * 0.8 + 0.1, meta={"filename_or_obj": fn}), "label": MetaTensor(m), "case": c}
        for fn, c, m in SEG_ITEMS
    ]
    if with_bare:
        data.append({"image": MetaTensor(square(0, 0), meta={"filename_or_obj": "/x/scan.png"}),
                     "label": MetaTensor(square(0, 0))})  # fmt: skip
        return DataLoader(data, batch_size=1)  # a case dict and none cannot share a batch
    return DataLoader(data, batch_size=2)


def test_segmentation_rows_overlays_and_lesions_are_named_by_case(tmp_path):
    evaluator = SupervisedEvaluator(torch.device("cpu"), seg_loader(), Echo())
    handler = SegmentationReportHandler(str(tmp_path), num_overlays=8, panel_px=32, n_resamples=20,
                                        paper_reference=None)  # fmt: skip
    handler.attach(evaluator)
    evaluator.run()
    rows = read_csv(tmp_path / "per_image.csv")
    assert [r["case"] for r in rows] == ["Mass-Test_P_00009_LEFT_MLO", "Mass-Test_P_00477_RIGHT_CC_1",
                                         "Mass-Test_P_00477_RIGHT_CC_2", "scan"]  # fmt: skip
    assert [r["pathology"] for r in rows] == ["MALIGNANT", "MALIGNANT", "BENIGN", ""]
    assert rows[0]["patient_id"] == "P_00009" and rows[1]["patient_id"] == "P_00477"
    assert [r["abnormality_id"] for r in rows] == ["1", "1", "2", ""] and rows[2]["subtlety"] == "4"
    assert list(rows[0])[2 : 2 + len(CASE_COLUMNS)] == list(CASE_COLUMNS)
    assert sorted(os.listdir(tmp_path / "overlays")) == sorted(f"{r['case']}.png" for r in rows)
    lesions = read_csv(tmp_path / "per_lesion.csv")  # both lesions of the film count
    assert sorted(r["case"] for r in lesions) == sorted(r["case"] for r in rows)


def test_segmentation_batched_case_dicts_are_decollated(tmp_path):
    evaluator = SupervisedEvaluator(torch.device("cpu"), seg_loader(with_bare=False), Echo(), decollate=False)
    SegmentationReportHandler(str(tmp_path), num_overlays=0, lesion_level=False, paper_reference=None).attach(evaluator)
    evaluator.run()
    rows = read_csv(tmp_path / "per_image.csv")
    assert [r["case"] for r in rows] == ["Mass-Test_P_00009_LEFT_MLO", "Mass-Test_P_00477_RIGHT_CC_1",
                                         "Mass-Test_P_00477_RIGHT_CC_2"]  # fmt: skip
    assert [r["view"] for r in rows] == ["CC"] * 3


class Probabilities(torch.nn.Module):
    def forward(self, x):
        p = x.reshape(x.shape[0], -1)[:, :1].clamp(0, 1)
        return torch.cat([1 - p, p], dim=1)


def test_classification_per_case_csv_names_each_lesion(tmp_path):
    data = [
        {"image": MetaTensor(torch.full((1, 4, 4), 0.9), meta={"filename_or_obj": FILM}), "label": 1,
         "case": case("Mass-Test_P_00477_RIGHT_CC_1")},
        {"image": MetaTensor(torch.full((1, 4, 4), 0.2), meta={"filename_or_obj": FILM}), "label": 0,
         "case": case("Mass-Test_P_00477_RIGHT_CC_2", "2", "BENIGN_WITHOUT_CALLBACK")},
    ]  # fmt: skip
    evaluator = SupervisedEvaluator(torch.device("cpu"), DataLoader(data, batch_size=2), Probabilities())
    ClassificationReportHandler(str(tmp_path), paper_reference=None).attach(evaluator)
    evaluator.run()
    rows = read_csv(tmp_path / "per_case.csv")
    assert list(rows[0]) == list(CLASSIFICATION_CSV_COLUMNS)
    assert [(r["case"], r["pathology"], r["true_label"]) for r in rows] == [
        ("Mass-Test_P_00477_RIGHT_CC_1", "MALIGNANT", "1"),
        ("Mass-Test_P_00477_RIGHT_CC_2", "BENIGN_WITHOUT_CALLBACK", "0"),
    ]


def test_detection_per_image_csv_and_overlays_by_case(tmp_path):
    def det_item(fn, c):
        return {"image": MetaTensor(torch.rand(1, 32, 32), meta={"filename_or_obj": fn}), "case": c,
                "box": torch.tensor([[4, 4, 12, 12]], dtype=torch.float32),
                "pred": {"box": torch.tensor([[4, 4, 12, 12]], dtype=torch.float32),
                         "label_scores": torch.tensor([0.9])}}  # fmt: skip

    film = case("Mass-Test_P_00477_RIGHT_CC", abnormality_id="1;2", pathology="BENIGN;MALIGNANT")
    batches = [[det_item(FILM, film), det_item("/data/other/1-1.dcm", None)]]
    engine = Engine(lambda e, batch: batch)
    DetectionReportHandler(str(tmp_path), n_resamples=20, num_overlays=4, panel_px=64, paper_reference=None).attach(
        engine
    )
    engine.run(batches, max_epochs=1)
    rows = read_csv(tmp_path / "per_image.csv")
    assert list(rows[0]) == list(DETECTION_CSV_COLUMNS)
    assert [(r["case"], r["pathology"], r["abnormality_id"]) for r in rows] == [
        ("Mass-Test_P_00477_RIGHT_CC", "BENIGN;MALIGNANT", "1;2"),
        ("1-1", "", ""),  # no case: the file-name fall-back
    ]
    assert sorted(os.listdir(tmp_path / "overlays")) == ["1-1.png", "Mass-Test_P_00477_RIGHT_CC.png"]
    assert json.loads((tmp_path / "metrics.json").read_text())["n_images"] == 2
