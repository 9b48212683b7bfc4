"""Each ground-truth lesion of a full film keeps its identity (issue 10): with the lesion index map the
full-mammogram preset makes beside the merged label, a film's masks are its lesions, each with its own CSV row, even
when they touch; without it the lesions are the label's connected components (and a field the rows disagree on
reads "mixed"). Driven by a real monai.engines.SupervisedEvaluator, whose post-processing leaves the index map in
the batch, as in the bundle configs."""

from __future__ import annotations

import json

import numpy as np
import torch
from monai.data import DataLoader, MetaTensor
from monai.engines import SupervisedEvaluator
from monai.transforms import AsDiscreted, CopyItemsd

from monai_cbis.evaluation import SegmentationReportHandler, read_csv


class Echo(torch.nn.Module):
    """The 'network' predicts what the image encodes."""

    def forward(self, x):
        return x[:, :1] * 1.0


def film(tmp_path, name, lesions, shape=(24, 24)):
    """An image item whose label is the union of ``lesions`` (row, col, height, width) and whose ``label_index`` is
    k + 1 on the k-th; the prediction (encoded in the image) covers every lesion."""
    label, index = np.zeros((1, *shape), np.float32), np.zeros((1, *shape), np.float32)
    for k, (r, c, h, w) in enumerate(lesions):
        label[0, r : r + h, c : c + w] = 1
        index[0, r : r + h, c : c + w] = k + 1
    fn = str(tmp_path / name)
    return {"image": MetaTensor(label * 0.9, meta={"filename_or_obj": fn}), "label": MetaTensor(label),
            "label_index": MetaTensor(index)}  # fmt: skip


def row(image, mask, kind, pathology, aid):
    return {"image": image, "mask": mask, "patient_id": "P_00001", "abnormality_type": kind, "pathology": pathology,
            "breast_density": 2, "subtlety": 3, "abnormality_id": aid}  # fmt: skip


def run(tmp_path, data, rows, **kwargs):
    out = tmp_path / "report"
    post = CopyItemsd("pred", names="pred_prob")
    evaluator = SupervisedEvaluator(
        device=torch.device("cpu"),
        val_data_loader=DataLoader(data, batch_size=2, shuffle=False, num_workers=0),
        network=Echo(),
        postprocessing=lambda d: AsDiscreted("pred", threshold=0.5)(post(d)),
    )
    handler = SegmentationReportHandler(str(out), num_overlays=0, lesions=rows, n_resamples=20, **kwargs)
    handler.attach(evaluator)
    evaluator.run()
    return json.loads((out / "metrics.json").read_text())["lesion_level"], read_csv(str(out / "per_lesion.csv"))


def test_two_touching_lesions_of_different_type_stay_two_with_their_own_type(tmp_path):
    item = film(tmp_path, "a.png", [(4, 4, 6, 5), (4, 9, 6, 5)])  # side by side: one connected component
    image = item["image"].meta["filename_or_obj"]
    # label order = rows sorted by type, then id: the calcification is mask 1, the mass mask 2
    rows = [row(image, "/m/mass.dcm", "mass", "MALIGNANT", 1), row(image, "/m/calc.dcm", "calcification", "BENIGN", 1)]
    summary, lesions = run(tmp_path, [item], rows)
    assert summary["n_lesions"] == 2 and "lesion index map" in summary["lesions_from"]
    assert [(x["abnormality_type"], x["pathology"], x["box"]) for x in lesions] == [
        ("calcification", "BENIGN", "4 4 10 9"),
        ("mass", "MALIGNANT", "4 9 10 14"),
    ]
    assert {g["group"] for g in summary["breakdown"]["abnormality_type"]} == {"calcification", "mass"}
    # without the map (index_key=None) the same film is one lesion, its rows' fields "mixed"
    summary, lesions = run(tmp_path, [item], rows, index_key=None)
    assert summary["n_lesions"] == 1 and "connected component" in summary["lesions_from"]
    assert lesions[0]["abnormality_type"] == "mixed"


def test_a_film_with_lesions_of_different_pathology_has_no_mixed_row(tmp_path):
    a = film(tmp_path, "a.png", [(2, 2, 4, 4), (14, 14, 5, 5)])
    b = film(tmp_path, "b.png", [(8, 8, 5, 5)])
    ia, ib = (x["image"].meta["filename_or_obj"] for x in (a, b))
    rows = [
        row(ia, "/m/a1.dcm", "mass", "BENIGN", 1),
        row(ia, "/m/a2.dcm", "mass", "MALIGNANT", 2),
        row(ib, "/m/b1.dcm", "mass", "BENIGN_WITHOUT_CALLBACK", 1),
    ]
    summary, lesions = run(tmp_path, [a, b], rows)
    groups = {g["group"]: g["n_lesions"] for g in summary["breakdown"]["pathology"]}
    assert groups == {"BENIGN": 1, "MALIGNANT": 1, "BENIGN_WITHOUT_CALLBACK": 1}
    assert "mixed" not in {x[f] for x in lesions for f in ("pathology", "abnormality_type", "abnormality_id")}
    assert [x["abnormality_id"] for x in lesions] == ["1", "2", "1"]


def test_an_index_the_rows_do_not_know_falls_back_to_common_fields(tmp_path):
    item = film(tmp_path, "a.png", [(2, 2, 4, 4), (14, 14, 5, 5)])
    image = item["image"].meta["filename_or_obj"]
    summary, lesions = run(tmp_path, [item], [row(image, "/m/a1.dcm", "mass", "BENIGN", 1)])  # one row, two masks
    assert summary["n_lesions"] == 2 and [x["pathology"] for x in lesions] == ["BENIGN", "BENIGN"]
