"""monai_cbis.handlers: the inference CSV of a classifier and the output transform for ignite's Accuracy."""

from __future__ import annotations

import csv

import pytest
import torch
from ignite.engine import Engine
from monai.data import MetaTensor

from monai_cbis.handlers import ClassificationCSVWriter, class_scores_and_indices


def _engine(outputs):
    def step(engine, batch):
        return outputs[engine.state.iteration - 1]

    return Engine(step)


def test_classification_csv_writer_writes_one_row_per_image(tmp_path):
    image = MetaTensor(torch.zeros(1, 4, 4), meta={"filename_or_obj": "/data/a/1-1.dcm"})
    outputs = [[{"image": image, "pred": torch.tensor([0.2, 0.8])}], [{"pred": torch.tensor([0.9, 0.1])}]]
    engine = _engine(outputs)
    out = tmp_path / "sub" / "predictions.csv"
    ClassificationCSVWriter(str(out), ["benign", "malignant"]).attach(engine)
    engine.run([0, 1], max_epochs=1)
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert [r["image"] for r in rows] == ["/data/a/1-1.dcm", "item_000001"]
    assert [r["predicted_class"] for r in rows] == ["malignant", "benign"]
    assert float(rows[0]["prob_malignant"]) == pytest.approx(0.8)


def test_classification_csv_writer_rejects_a_wrong_number_of_classes(tmp_path):
    engine = _engine([[{"pred": torch.tensor([0.2, 0.3, 0.5])}]])
    ClassificationCSVWriter(str(tmp_path / "p.csv"), ["benign", "malignant"]).attach(engine)
    with pytest.raises(ValueError, match=r"pred of item_000000 has 3 values, but class_names has 2"):
        engine.run([0], max_epochs=1)


def test_class_scores_and_indices_accepts_indices_and_one_hot():
    rows = [{"pred": torch.tensor([0.1, 0.9]), "label": torch.tensor(1)},
            {"pred": torch.tensor([0.7, 0.3]), "label": torch.tensor([1.0, 0.0])}]  # fmt: skip
    scores, labels = class_scores_and_indices()(rows)
    assert scores.shape == (2, 2) and labels.tolist() == [1, 0]
