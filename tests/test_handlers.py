"""monai_cbis.handlers: a classifier's inference CSV, the output transform for ignite's Accuracy, checkpoint lookup."""

from __future__ import annotations

import csv

import pytest
import torch
from ignite.engine import Engine, Events
from monai.data import MetaTensor

from monai_cbis.handlers import ClassificationCSVWriter, class_scores_and_indices, latest_checkpoint


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


def _trainer(max_epochs=1, scale=1000.0, accumulation_steps=1, n=4):
    from monai.engines import SupervisedTrainer

    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    data = [{"image": torch.randn(2, 3), "label": torch.randn(2, 1)} for _ in range(n)]
    return SupervisedTrainer(
        device=torch.device("cpu"),
        max_epochs=max_epochs,
        train_data_loader=data,
        network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=1e-3),
        loss_function=lambda pred, label: scale * ((pred - label) ** 2).mean(),
        accumulation_steps=accumulation_steps,
    )


def _grad_norms(trainer):
    """The gradient norm that the optimizer step sees, recorded after every other BACKWARD_COMPLETED handler."""
    from monai.engines.utils import IterationEvents

    norms = []

    def record(engine):
        norms.append(float(torch.norm(torch.stack([p.grad.norm() for p in engine.network.parameters()]))))

    trainer.add_event_handler(IterationEvents.BACKWARD_COMPLETED, record)
    return norms


def test_gradient_clipping_bounds_the_norm_that_the_optimizer_steps_with():
    from monai_cbis.handlers import GradientClipping

    unclipped = _trainer()
    free = _grad_norms(unclipped)
    unclipped.run()
    assert min(free) > 1.0  # the loss is scaled up so that clipping has something to do

    clipped = _trainer()
    GradientClipping(max_norm=1.0).attach(clipped)
    norms = _grad_norms(clipped)
    clipped.run()
    assert len(norms) == 4 and max(norms) == pytest.approx(1.0, rel=1e-4)


def test_gradient_clipping_none_attaches_nothing_and_bad_norms_are_rejected():
    from monai.engines.utils import IterationEvents

    from monai_cbis.handlers import GradientClipping

    trainer = _trainer()
    GradientClipping(max_norm=None).attach(trainer)
    assert len(trainer._event_handlers[IterationEvents.BACKWARD_COMPLETED]) == 0
    for bad in (0, -1.0, "x", float("nan")):
        with pytest.raises(ValueError, match=r"max_norm must be a positive number or None \(no clipping\), got "):
            GradientClipping(max_norm=bad)


def test_gradient_clipping_with_accumulation_clips_only_before_an_optimizer_step(monkeypatch):
    from monai_cbis.handlers import GradientClipping

    calls = []
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", lambda params, *a, **k: calls.append(1))
    trainer = _trainer(accumulation_steps=2, n=5)
    GradientClipping(max_norm=1.0).attach(trainer)
    iterations = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: iterations.append(e.state.iteration))
    trainer.run()
    assert iterations == [1, 2, 3, 4, 5] and len(calls) == 3  # steps after iterations 2, 4 and 5 (epoch end)


def test_gradient_clipping_unscales_amp_gradients_before_clipping(monkeypatch):
    from monai_cbis.handlers import GradientClipping

    order = []

    class Scaler:
        def unscale_(self, optimizer):
            order.append("unscale")

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", lambda *a, **k: order.append("clip"))
    net = torch.nn.Linear(2, 1)
    engine = Engine(lambda e, b: None)
    engine.amp, engine.scaler, engine.accumulation_steps = True, Scaler(), 1
    engine.optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    net(torch.ones(1, 2)).sum().backward()
    GradientClipping(max_norm=1.0)(engine)
    assert order == ["unscale", "clip"]


def test_lr_schedule_handler_steps_cosine_per_iteration_and_plateau_per_epoch_with_the_metric():
    from monai_cbis.handlers import lr_schedule_handler
    from monai_cbis.optim import lr_scheduler

    trainer = _trainer(max_epochs=3)
    sched = lr_scheduler(trainer.optimizer, "cosine", epochs=3, steps_per_epoch=4, warmup_epochs=1)
    lr_schedule_handler(sched, validator=Engine(lambda e, b: None), metric_name="val_auc").attach(trainer)
    lrs = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: lrs.append(e.optimizer.param_groups[0]["lr"]))
    trainer.run()
    assert sched.last_epoch == 12  # one step per iteration
    assert lrs[3] == pytest.approx(1e-3)  # warm-up ends after the first epoch's 4 iterations
    assert lrs[-1] == pytest.approx(0.0, abs=1e-12) and lrs[4] > lrs[8] > lrs[-1]

    trainer = _trainer(max_epochs=4)
    validator = Engine(lambda e, b: None)
    validator.run([0], max_epochs=1)
    validator.state.metrics = {"val_auc": 0.5}  # never improves
    sched = lr_scheduler(trainer.optimizer, "plateau", patience=1, factor=0.5)
    lr_schedule_handler(sched, validator=validator, metric_name="val_auc").attach(trainer)
    trainer.run()
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5)  # halved once, after epoch 3
    validator.state.metrics = {}
    with pytest.raises(KeyError, match="validator has no metric 'val_auc'"):
        _trainer_with(sched_kind="plateau", validator=validator)


def _trainer_with(sched_kind, validator):
    from monai_cbis.handlers import lr_schedule_handler
    from monai_cbis.optim import lr_scheduler

    trainer = _trainer()
    sched = lr_scheduler(trainer.optimizer, sched_kind)
    lr_schedule_handler(sched, validator=validator, metric_name="val_auc").attach(trainer)
    trainer.run()


def test_split_key_metric_moves_the_named_metric_to_the_key_dict_or_lists_the_choices():
    from monai_cbis.handlers import split_key_metric

    metrics = {"val_auc": "auc", "val_accuracy": "acc"}
    assert split_key_metric(metrics, "val_auc") == ({"val_auc": "auc"}, {"val_accuracy": "acc"})
    assert split_key_metric(metrics, "val_accuracy") == ({"val_accuracy": "acc"}, {"val_auc": "auc"})
    message = r"Unsupported key_metric: 'auc', available options are \['val_auc', 'val_accuracy'\]"
    with pytest.raises(ValueError, match=message):
        split_key_metric(metrics, "auc")


def test_module_examples_run():
    import doctest
    import importlib
    import pkgutil

    import monai_cbis.handlers

    attempted = {}
    for module in pkgutil.iter_modules(monai_cbis.handlers.__path__):
        result = doctest.testmod(importlib.import_module(f"monai_cbis.handlers.{module.name}"))
        assert result.failed == 0, module.name
        attempted[module.name] = result.attempted
    assert attempted["validation"] >= 2 and attempted["early_stop"] >= 1, attempted


def test_latest_checkpoint_picks_the_highest_epoch_and_says_where_it_looked(tmp_path):
    for n in (2, 10, 9):
        (tmp_path / f"checkpoint_epoch={n}.pt").write_bytes(b"x")
    assert latest_checkpoint(str(tmp_path)).endswith("checkpoint_epoch=10.pt")  # numeric, not text order
    assert latest_checkpoint(str(tmp_path), resume=False) == ""
    with pytest.raises(FileNotFoundError, match=r"no checkpoint_epoch=N.pt in .*empty"):
        latest_checkpoint(str(tmp_path / "empty"))
