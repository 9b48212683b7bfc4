"""TrainingCurvesHandler on a real SupervisedTrainer + ValidationHandler + SupervisedEvaluator; resumed runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from ignite.engine import Events
from monai.data import DataLoader
from monai.engines import SupervisedEvaluator, SupervisedTrainer
from monai.handlers import MeanDice, MeanIoUHandler, ValidationHandler, from_engine
from monai.transforms import AsDiscreted
from PIL import Image

from monai_cbis.evaluation import TrainingCurvesHandler, read_csv


def data(n=4, seed=0):
    rng = np.random.RandomState(seed)
    items = []
    for _ in range(n):
        label = np.zeros((1, 8, 8), np.float32)
        r, c = rng.randint(0, 5, 2)
        label[0, r : r + 3, c : c + 3] = 1
        items.append({"image": torch.as_tensor(label + 0.1 * rng.rand(1, 8, 8).astype(np.float32)), "label": label})
    return DataLoader(items, batch_size=2)


def build(
    out, max_epochs, val_interval=1, curves_first=True, resume_at=None, metric_names=("val_mean_dice", "val_iou")
):
    """A trainer/evaluator pair as a bundle wires them; returns (trainer, evaluator, record of truths)."""
    torch.manual_seed(0)
    net = torch.nn.Conv2d(1, 1, 3, padding=1)
    post = AsDiscreted(keys="pred", threshold=0.0)  # logits > 0
    evaluator = SupervisedEvaluator(
        device=torch.device("cpu"),
        val_data_loader=data(seed=1),
        network=net,
        postprocessing=post,
        key_val_metric={"val_mean_dice": MeanDice(output_transform=from_engine(["pred", "label"]))},
        additional_metrics={"val_iou": MeanIoUHandler(output_transform=from_engine(["pred", "label"]))},
    )
    trainer = SupervisedTrainer(
        device=torch.device("cpu"),
        max_epochs=max_epochs,
        train_data_loader=data(),
        network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.05),
        loss_function=torch.nn.BCEWithLogitsLoss(),
    )
    truth = {"loss": {}, "val": {}}
    if resume_at is not None:  # what CheckpointLoader does at STARTED

        def restore(engine):
            engine.state.epoch = resume_at
            engine.state.iteration = resume_at * engine.state.epoch_length

        trainer.add_event_handler(Events.STARTED, restore)
    losses = []
    trainer.add_event_handler(Events.EPOCH_STARTED, lambda e: losses.clear())
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: losses.append(float(e.state.output[0]["loss"])))
    trainer.add_event_handler(
        Events.EPOCH_COMPLETED, lambda e: truth["loss"].__setitem__(e.state.epoch, float(np.mean(losses)))
    )
    evaluator.add_event_handler(
        Events.COMPLETED, lambda e: truth["val"].__setitem__(trainer.state.epoch, dict(e.state.metrics))
    )
    curves = TrainingCurvesHandler(str(out), validator=evaluator, metric_names=list(metric_names))
    validation = ValidationHandler(validator=evaluator, interval=val_interval)
    for handler in (curves, validation) if curves_first else (validation, curves):
        handler.attach(trainer)
    return trainer, truth


@pytest.mark.parametrize("curves_first", [True, False])
def test_history_matches_the_run(tmp_path, curves_first):
    out = tmp_path / "curves"
    trainer, truth = build(out, max_epochs=3, curves_first=curves_first)
    trainer.run()
    h = json.loads((out / "history.json").read_text())
    assert h["columns"] == ["epoch", "train_loss", "lr", "val_mean_dice", "val_iou"]
    assert [r["epoch"] for r in h["history"]] == [1, 2, 3]
    for r in h["history"]:
        assert r["train_loss"] == pytest.approx(truth["loss"][r["epoch"]])
        assert r["val_mean_dice"] == pytest.approx(truth["val"][r["epoch"]]["val_mean_dice"])
        assert r["val_iou"] == pytest.approx(truth["val"][r["epoch"]]["val_iou"])
        assert r["lr"] == pytest.approx(0.05)
    csv_rows = read_csv(out / "history.csv")
    assert list(csv_rows[0]) == h["columns"]
    assert [float(r["train_loss"]) for r in csv_rows] == pytest.approx([r["train_loss"] for r in h["history"]])
    with Image.open(out / "training_curves.png") as im:
        assert im.size == (1000, 400)


def test_validation_interval_leaves_gaps(tmp_path):
    out = tmp_path / "curves"
    trainer, _ = build(out, max_epochs=4, val_interval=2)
    trainer.run()
    rows = json.loads((out / "history.json").read_text())["history"]
    assert [r["val_mean_dice"] is None for r in rows] == [True, False, True, False]
    assert read_csv(out / "history.csv")[0]["val_mean_dice"] == ""


def test_resume_appends_and_keeps_earlier_epochs(tmp_path):
    out = tmp_path / "curves"
    first, truth1 = build(out, max_epochs=2)
    first.run()
    before = json.loads((out / "history.json").read_text())["history"]

    second, truth2 = build(out, max_epochs=4, resume_at=2)
    second.run()
    after = json.loads((out / "history.json").read_text())["history"]
    assert [r["epoch"] for r in after] == [1, 2, 3, 4]
    assert after[:2] == before  # untouched
    assert after[2]["train_loss"] == pytest.approx(truth2["loss"][3])
    assert after[3]["val_mean_dice"] == pytest.approx(truth2["val"][4]["val_mean_dice"])
    assert len(read_csv(out / "history.csv")) == 4

    # resuming from an earlier checkpoint drops the rows after it; a fresh run in the folder starts over
    third, truth3 = build(out, max_epochs=2, resume_at=1)
    third.run()
    rows = json.loads((out / "history.json").read_text())["history"]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[0] == before[0] and rows[1]["train_loss"] == pytest.approx(truth3["loss"][2])
    fresh, truth4 = build(out, max_epochs=1)
    fresh.run()
    rows = json.loads((out / "history.json").read_text())["history"]
    assert [r["epoch"] for r in rows] == [1] and rows[0]["train_loss"] == pytest.approx(truth4["loss"][1])


def test_star_records_every_metric_and_plain_engine_outputs(tmp_path):
    from ignite.engine import Engine

    losses = iter([4.0, 2.0, 1.0, 3.0])
    trainer = Engine(lambda e, b: {"loss": torch.tensor(next(losses))})

    @trainer.on(Events.EPOCH_COMPLETED)
    def train_metric(engine):
        engine.state.metrics["train_acc"] = 0.25 * engine.state.epoch
        engine.state.metrics["per_class"] = [0.1, 0.2]  # not a scalar: not a curve

    TrainingCurvesHandler(str(tmp_path)).attach(trainer)
    trainer.run([0, 1], max_epochs=2)
    h = json.loads((tmp_path / "history.json").read_text())
    assert h["columns"] == ["epoch", "train_loss", "lr", "train_acc"]
    assert [(r["train_loss"], r["train_acc"], r["lr"]) for r in h["history"]] == [(3.0, 0.25, None), (2.0, 0.5, None)]


def test_missing_loss_key_is_named(tmp_path):
    from ignite.engine import Engine

    trainer = Engine(lambda e, b: {"total": 1.0})
    TrainingCurvesHandler(str(tmp_path)).attach(trainer)
    with pytest.raises(KeyError, match="no 'loss' in the trainer output keys \\['total'\\]"):
        trainer.run([0], max_epochs=1)
