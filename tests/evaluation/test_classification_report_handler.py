"""ClassificationReportHandler driven by a real monai.engines.SupervisedEvaluator."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch
from monai.data import DataLoader, MetaTensor
from monai.engines import SupervisedEvaluator
from monai.transforms import AsDiscreted
from PIL import Image

from monai_cbis.evaluation import CLASSIFICATION_CSV_COLUMNS, ClassificationReportHandler, read_csv, roc_auc
from monai_cbis.zoo.specs import SPECS


class Probabilities(torch.nn.Module):
    """The image's mean is the probability of malignancy; returns (B, 2) softmax-like rows or (B, 1)."""

    def __init__(self, outputs: int = 2, scale: float = 1.0):
        super().__init__()
        self.outputs, self.scale = outputs, scale

    def forward(self, x):
        p = x.mean(dim=(1, 2, 3)) * self.scale
        return torch.stack([1 - p, p], dim=1) if self.outputs == 2 else p[:, None]


LABELS = [0, 0, 0, 0, 1, 1, 1, 0]
PROBS = [0.1, 0.2, 0.6, 0.3, 0.7, 0.45, 0.9, 0.4]


def make_evaluator(tmp_path, outputs=2, scale=1.0, onehot_label=False, postprocessing=None):
    data = []
    for i, (y, p) in enumerate(zip(LABELS, PROBS, strict=True)):
        image = MetaTensor(np.full((1, 4, 4), p, np.float32), meta={"filename_or_obj": str(tmp_path / f"roi_{i}.png")})
        label = torch.tensor([1 - y, y]) if onehot_label else torch.tensor(y)
        data.append({"image": image, "label": label})
    return SupervisedEvaluator(
        device=torch.device("cpu"),
        val_data_loader=DataLoader(data, batch_size=3),
        network=Probabilities(outputs, scale),
        postprocessing=postprocessing,
    )


@pytest.mark.parametrize("outputs,onehot_label", [(2, False), (2, True), (1, False)])
def test_files_and_values(tmp_path, outputs, onehot_label):
    out = tmp_path / "report"
    evaluator = make_evaluator(tmp_path, outputs, onehot_label=onehot_label)
    ClassificationReportHandler(str(out), model_name="vgg16_classification").attach(evaluator)
    evaluator.run()

    m = json.loads((out / "metrics.json").read_text())
    # predicted (>= 0.5): 0 0 1 0 1 0 1 0 -> TN 4, FP 1, FN 1, TP 2
    assert m["confusion_matrix"] == [[4, 1], [1, 2]]
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["majority_baseline_accuracy"] == pytest.approx(5 / 8)
    assert m["sensitivity"] == pytest.approx(2 / 3) and m["specificity"] == pytest.approx(4 / 5)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert m["roc_auc"] == pytest.approx(roc_auc(LABELS, PROBS))
    assert m["n_cases"] == 8 and m["positive_class"] == "malignant"
    assert "not results of this run" in m["paper_reference"]["note"]
    assert m["paper_reference"] == SPECS["vgg16_classification"].published  # paper_reference=True: the spec's
    assert m["pred_all_hard_decisions"] is False

    rows = read_csv(out / "per_case.csv")
    assert list(rows[0]) == list(CLASSIFICATION_CSV_COLUMNS)
    assert [r["case"] for r in rows] == [f"roi_{i}" for i in range(8)]
    assert [int(r["true_label"]) for r in rows] == LABELS
    assert [float(r["prob_malignant"]) for r in rows] == pytest.approx(PROBS)
    assert [int(r["predicted_label"]) for r in rows] == [int(p >= 0.5) for p in PROBS]
    for name, size in (("roc.png", (500, 500)), ("confusion_matrix.png", (450, 400))):
        with Image.open(out / name) as im:
            assert im.size == size


def test_positive_index_zero(tmp_path):
    # channel 0 is malignant: the probability of malignancy is 1 - mean, and label 0 is malignant
    out = tmp_path / "r"
    evaluator = make_evaluator(tmp_path)
    ClassificationReportHandler(str(out), positive_index=0).attach(evaluator)
    evaluator.run()
    rows = read_csv(out / "per_case.csv")
    assert [int(r["true_label"]) for r in rows] == [1 - y for y in LABELS]
    assert [float(r["prob_malignant"]) for r in rows] == pytest.approx([1 - p for p in PROBS])


def test_logits_are_refused_with_the_fix(tmp_path):
    evaluator = make_evaluator(tmp_path, scale=5.0)
    ClassificationReportHandler(str(tmp_path / "r")).attach(evaluator)
    with pytest.raises(ValueError, match=r"roi_2\.png.*not probabilities.*Activationsd"):
        evaluator.run()


def test_discretized_pred_warns_and_is_flagged(tmp_path, caplog):
    out = tmp_path / "r"
    post = AsDiscreted(keys="pred", argmax=True, to_onehot=2)
    evaluator = make_evaluator(tmp_path, postprocessing=post)
    ClassificationReportHandler(str(out), name="cls_report_test").attach(evaluator)
    with caplog.at_level(logging.INFO, logger="cls_report_test"):
        evaluator.run()
    assert "hard decisions" in caplog.text
    assert "majority-class baseline 0.6250" in caplog.text
    assert json.loads((out / "metrics.json").read_text())["pred_all_hard_decisions"] is True


def test_label_out_of_range(tmp_path):
    data = [{"image": torch.full((1, 2, 2), 0.3), "label": torch.tensor(2)}]
    evaluator = SupervisedEvaluator(torch.device("cpu"), DataLoader(data, batch_size=1), Probabilities())
    ClassificationReportHandler(str(tmp_path / "r")).attach(evaluator)
    with pytest.raises(ValueError, match=r"label of item_000000 is 2\.0: expected a class index in \[0, 1\]"):
        evaluator.run()


def test_empty_runs_write_explicit_nulls(tmp_path):
    from ignite.engine import Engine

    from monai_cbis.evaluation import SegmentationReportHandler

    for handler, count in ((ClassificationReportHandler, "n_cases"), (SegmentationReportHandler, "n_images")):
        engine = Engine(lambda e, b: [])
        handler(str(tmp_path / handler.__name__)).attach(engine)
        engine.run([0], max_epochs=1)
        m = json.loads((tmp_path / handler.__name__ / "metrics.json").read_text())
        assert m[count] == 0
        assert m.get("accuracy", m.get("lesion_dice")) is None
