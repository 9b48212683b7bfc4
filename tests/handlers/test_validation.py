"""Handlers that read the validator's metric: an empty validation list skips them with one log line (MONAI Label's
``val_split`` 0); a validator that ran without the named metric (a typo) is still an error."""

from __future__ import annotations

import logging
import os

import pytest
import torch
from ignite.engine import Events
from monai.engines import SupervisedEvaluator, SupervisedTrainer
from monai.handlers import CheckpointSaver, MeanSquaredError, ValidationHandler, from_engine
from torch.utils.data import DataLoader

from monai_cbis.handlers import EarlyStopOnValidation, ResumableCheckpoint, has_no_validation_data, lr_schedule_handler
from monai_cbis.optim import lr_scheduler


def _loader(n: int) -> DataLoader:
    g = torch.Generator().manual_seed(0)
    items = [{"image": torch.randn(3, generator=g), "label": torch.randn(1, generator=g)} for _ in range(n)]
    return DataLoader(items, batch_size=2)


def _train(tmp_path, val_items: int, metric_name: str = "val_mse", epochs: int = 2):
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    sched = lr_scheduler(opt, "plateau", patience=0)
    best_saver = CheckpointSaver(str(tmp_path), {"model": net}, save_key_metric=True, key_metric_filename="model.pt")
    metric = MeanSquaredError(output_transform=from_engine(["pred", "label"]))
    validator = SupervisedEvaluator(
        torch.device("cpu"), _loader(val_items), net, key_val_metric={"val_mse": metric}, val_handlers=[best_saver]
    )
    early_stop = EarlyStopOnValidation(validator, metric_name, patience=1)
    handlers = [
        ResumableCheckpoint(
            str(tmp_path), {"model": net, "early_stop": early_stop}, validator=validator, best_saver=best_saver
        ),  # fmt: skip
        ValidationHandler(1, validator, epoch_level=True),
        lr_schedule_handler(sched, validator, metric_name),
        early_stop,
    ]
    trainer = SupervisedTrainer(
        torch.device("cpu"), epochs, _loader(4), net, opt, torch.nn.MSELoss(), train_handlers=handlers
    )
    ran = []
    trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda e: ran.append(e.state.epoch))
    trainer.run()
    return ran, validator, net


def test_empty_validation_list_trains_and_says_once_what_it_skipped(tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        ran, validator, net = _train(tmp_path, val_items=0)
    assert ran == [1, 2] and has_no_validation_data(validator) and validator.state.metrics == {}
    skips = [r.getMessage() for r in caplog.records if "the validation list is empty" in r.getMessage()]
    assert len(skips) == 2  # one line each (not one per epoch): the LR plateau and early stopping
    assert any("ReduceLROnPlateau" in s for s in skips) and any("early stopping" in s for s in skips)
    # no best model was selected, so model.pt (what evaluation, inference and MONAI Label load) holds the final weights
    said = [r.getMessage() for r in caplog.records if "no best model was selected" in r.getMessage()]
    assert len(said) == 1 and "The validation list was empty" in said[0] and "final weights (epoch 2)" in said[0]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint_epoch=2.pt", "model.pt", "model_final.pt"]
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    assert sorted(saved) == sorted(net.state_dict())  # the saver's layout: the bare state dict
    assert all(torch.equal(saved[k], v) for k, v in net.state_dict().items())
    assert all(torch.equal(saved[k], v) for k, v in torch.load(tmp_path / "model_final.pt")["model"].items())


def test_a_run_with_validation_keeps_its_best_model_and_a_run_that_never_validates_saves_the_final_one(tmp_path):
    ran, validator, net = _train(tmp_path / "validated", val_items=2, epochs=3)
    assert validator.state.best_metric_epoch >= 1
    best = torch.load(tmp_path / "validated" / "model.pt", weights_only=True)
    final = torch.load(tmp_path / "validated" / "model_final.pt", weights_only=True)["model"]
    assert set(best) == set(final)  # written by the best-model saver, not replaced at the end
    if validator.state.best_metric_epoch < ran[-1]:
        assert any(not torch.equal(best[k], final[k]) for k in best)

    # validation every 5 epochs in a 2-epoch run (the plateau and early stopping need a metric every epoch: left out)
    never = tmp_path / "never"
    best_saver = CheckpointSaver(str(never), {"model": net}, save_key_metric=True, key_metric_filename="model.pt")
    metric = MeanSquaredError(output_transform=from_engine(["pred", "label"]))
    validator = SupervisedEvaluator(
        torch.device("cpu"), _loader(2), net, key_val_metric={"val_mse": metric}, val_handlers=[best_saver]
    )
    handlers = [ResumableCheckpoint(str(never), {"model": net}, validator=validator), ValidationHandler(5, validator)]
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    SupervisedTrainer(torch.device("cpu"), 2, _loader(4), net, opt, torch.nn.MSELoss(), train_handlers=handlers).run()
    assert not has_no_validation_data(validator) and validator.state.best_metric_epoch == -1
    saved = torch.load(never / "model.pt", weights_only=True)
    assert all(torch.equal(saved[k], v) for k, v in net.state_dict().items())


def test_a_metric_name_the_validator_does_not_have_is_still_an_error(tmp_path):
    with pytest.raises(KeyError, match=r"validator has no metric 'val_msee'; it has \['val_mse'\]"):
        _train(tmp_path, val_items=2, metric_name="val_msee")


def test_early_stop_names_the_missing_metric_when_the_validator_ran(tmp_path):
    validator = SupervisedEvaluator(torch.device("cpu"), _loader(2), torch.nn.Linear(3, 1))
    validator.run()
    validator.state.metrics = {"val_auc": 0.5}
    trainer = SupervisedTrainer(torch.device("cpu"), 1, _loader(2), torch.nn.Linear(3, 1), None, None)
    with pytest.raises(KeyError, match=r"no metric 'val_acu'; it has \['val_auc'\]"):
        EarlyStopOnValidation(validator, "val_acu")(trainer)
    assert not has_no_validation_data(validator)
