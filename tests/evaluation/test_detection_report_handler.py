"""DetectionReportHandler end to end on a tiny Ignite engine: its files, and figures computed by hand."""

from __future__ import annotations

import json
import os

import pytest
import torch
from ignite.engine import Engine
from monai.data import MetaTensor

from monai_cbis.evaluation import DETECTION_CSV_COLUMNS, DetectionReportHandler, read_csv

BOX = [[4, 4, 12, 12]]


def item(name, gt, pred, scores):
    image = MetaTensor(torch.rand(1, 32, 32), meta={"filename_or_obj": f"/data/{name}.png"})
    return {"image": image, "box": torch.tensor(gt, dtype=torch.float32).reshape(-1, 4),
            "pred": {"box": torch.tensor(pred, dtype=torch.float32).reshape(-1, 4),
                     "label_scores": torch.tensor(scores, dtype=torch.float32)}}  # fmt: skip


# a: lesion found at 0.9 plus a duplicate (0.6, not a false mark); b: lesion missed, false mark 0.8;
# c (no lesion): false mark 0.3
BATCHES = [
    [item("a", BOX, [[4, 4, 12, 12], [5, 5, 12, 12]], [0.9, 0.6]), item("b", BOX, [[20, 20, 30, 30]], [0.8])],
    [item("c", [], [[1, 1, 3, 3]], [0.3])],
]
ROWS = [
    {"image": f"/data/{n}.png", "mask": f"/data/{n}_mask.png", "patient_id": p, "abnormality_type": t,
     "abnormality_id": 1, "pathology": "MALIGNANT", "breast_density": 2, "subtlety": 4}
    for n, p, t in (("a", "P_00001", "mass"), ("b", "P_00002", "calcification"))
]  # fmt: skip


def run_handler(out, **kwargs):
    engine = Engine(lambda e, batch: batch)
    handler = DetectionReportHandler(str(out), lesions=ROWS, n_resamples=50, num_overlays=2, panel_px=96,
                                     model_name="retinanet_detection", paper_reference=None, **kwargs)  # fmt: skip
    handler.attach(engine)
    engine.run(BATCHES, max_epochs=1)
    return json.loads((out / "metrics.json").read_text())


def test_files_and_hand_computed_values(tmp_path):
    out = tmp_path / "eval"
    m = run_handler(out)
    assert m["model"] == "retinanet_detection" and m["n_images"] == 3
    ll = m["lesion_level"]
    assert (ll["n_lesions"], ll["n_women"], ll["n_images_without_lesions"]) == (2, 3, 1)  # c: its own unit
    # thresholds 0.9 (found 1, fp 0), 0.8 (fp 1/3), 0.3 (fp 2/3): half the lesions from 0.125 FP/image on
    assert m["sensitivity_at_0.125fp"] == 0.5 == m["sensitivity_at_4fp"] and m["froc_mean_sensitivity"] == 0.5
    # COCO: ranked 0.9 TP, 0.8 FP, 0.6 duplicate (FP for COCO), 0.3 FP; 2 lesions: precision 1 up to recall 0.5
    assert m["map_at_iou_0.1"] == pytest.approx(51 / 101)
    per_image = read_csv(out / "per_image.csv")
    assert list(per_image[0]) == list(DETECTION_CSV_COLUMNS)
    assert [(r["case"], r["n_found"], r["n_false_positives"]) for r in per_image] == [("a", "1", "0"),
                                                                                      ("b", "0", "1"),
                                                                                      ("c", "0", "1")]  # fmt: skip
    lesions = read_csv(out / "per_lesion.csv")
    assert [(r["case"], r["patient_id"], r["abnormality_type"], r["found"]) for r in lesions] == [
        ("a", "P_00001", "mass", "True"), ("b", "P_00002", "calcification", "False")]  # fmt: skip
    assert lesions[0]["box"] == "4 4 12 12" and float(lesions[0]["best_overlap"]) == 1.0
    assert sorted(os.listdir(out / "overlays")) == ["a.png", "b.png"]
    assert m["files"]["froc"] == "froc.png" and os.path.getsize(out / "froc.png") > 1000
    types = {g["group"]: g["n_lesions"] for g in ll["breakdown"]["abnormality_type"]}
    assert types == {"calcification": 1, "mass": 1}


def test_missing_key_names_it(tmp_path):
    with pytest.raises(KeyError, match="needs 'pred.scores'"):
        run_handler(tmp_path / "x", pred_score_key="pred.scores")
