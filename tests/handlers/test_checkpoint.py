"""ResumableCheckpoint on real MONAI engines: what a resumed run restores, pruning, the final file, save order."""

from __future__ import annotations

import os

import pytest
import torch
from ignite.engine import Events
from ignite.metrics import Metric
from monai.engines import SupervisedEvaluator, SupervisedTrainer
from monai.handlers import CheckpointSaver, ValidationHandler
from scratch import scratch_dir
from torch.utils.data import DataLoader

from monai_cbis.handlers import EarlyStopOnValidation, ResumableCheckpoint, lr_schedule_handler
from monai_cbis.optim import lr_scheduler

#: The validation score of epochs 1-5: best at epoch 2; early stopping (patience 2) stops after epoch 4.
SCORES = [0.5, 0.8, 0.6, 0.7, 0.9]


class Scripted(Metric):
    """A key metric whose value at global epoch N is ``SCORES[N - 1]``, whatever the weights."""

    def reset(self):
        pass

    def update(self, output):
        pass

    def compute(self):
        return 0.0

    def completed(self, engine, name):
        engine.state.metrics[name] = SCORES[engine.state.epoch - 1]


def _data(n: int, seed: int) -> DataLoader:
    g = torch.Generator().manual_seed(seed)
    items = [{"image": torch.randn(3, generator=g), "label": torch.randn(1, generator=g)} for _ in range(n)]
    return DataLoader(items, batch_size=2, shuffle=False)


def _run(ckpt_dir: str, max_epochs: int, resume: bool = False, init_seed: int = 0, n_saved: int = 1) -> dict:
    """A trainer (Adam, plateau LR, early stop) and a validator with a best-model saver, as train.json wires them."""
    torch.manual_seed(init_seed)
    net = torch.nn.Linear(3, 1)
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    sched = lr_scheduler(opt, "plateau", patience=0, factor=0.5)
    best_saver = CheckpointSaver(ckpt_dir, {"model": net}, save_key_metric=True, key_metric_filename="model.pt")
    validator = SupervisedEvaluator(
        torch.device("cpu"), _data(2, 1), net, key_val_metric={"val_score": Scripted()}, val_handlers=[best_saver]
    )
    early_stop = EarlyStopOnValidation(validator, "val_score", patience=2)
    # as train.json wires it: the early stop and the best saver are found on the engines, not named
    ckpt = ResumableCheckpoint(
        ckpt_dir, {"model": net, "optimizer": opt, "lr_scheduler": sched}, resume, n_saved=n_saved, validator=validator
    )
    handlers = [
        ckpt,
        ValidationHandler(1, validator, epoch_level=True),
        lr_schedule_handler(sched, validator, "val_score", print_lr=False),
        early_stop,
    ]
    trainer = SupervisedTrainer(
        torch.device("cpu"), max_epochs, _data(6, 0), net, opt, torch.nn.MSELoss(), train_handlers=handlers
    )
    restored = {}
    if resume:  # the state right after loading, before any resumed epoch changes it
        trainer.add_event_handler(
            Events.STARTED,
            lambda e: restored.update(
                epoch=e.state.epoch,
                best=(validator.state.best_metric, validator.state.best_metric_epoch),
                early_stop=early_stop.state_dict(),
                saver=[tuple(item) for item in best_saver._key_metric_checkpoint._saved],
                lr=opt.param_groups[0]["lr"],
            ),
        )
    ran = []
    trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda e: ran.append(e.state.epoch))
    trainer.run()
    return {"net": net, "opt": opt, "sched": sched, "validator": validator, "early_stop": early_stop,
            "ran": ran, "restored": restored}  # fmt: skip


def _same_state(a, b) -> None:
    """Two state dicts hold equal tensors and values."""
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict):
            _same_state(a[key], b[key])
        elif isinstance(a[key], torch.Tensor):
            assert torch.equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """An uninterrupted run, and the same run stopped after epoch 3 and resumed (fresh objects, other init)."""
    tmp = scratch_dir(request, tmp_path_factory, "resumable")
    whole = _run(str(tmp / "whole"), 5)
    first = _run(str(tmp / "split"), 3)
    resumed = _run(str(tmp / "split"), 5, resume=True, init_seed=7)
    return {"tmp": tmp, "whole": whole, "first": first, "resumed": resumed}


def test_resume_restores_best_metric_saver_record_early_stop_counter_and_lr(runs):
    restored = runs["resumed"]["restored"]
    assert restored["epoch"] == 3
    assert restored["best"] == (0.8, 2)  # a fresh evaluator would start from (-1, -1)
    assert restored["early_stop"] == {"best": 0.8, "bad_validations": 1, "last_seen_epoch": 3}
    assert [priority for priority, _ in restored["saver"]] == [0.8]  # the score of the model.pt on disk
    assert restored["lr"] == runs["first"]["opt"].param_groups[0]["lr"] < 0.1  # the plateau had halved it


def test_resumed_run_ends_exactly_as_the_uninterrupted_one(runs):
    whole, first, resumed = runs["whole"], runs["first"], runs["resumed"]
    assert whole["ran"] == [1, 2, 3, 4]  # early stop after 2 validations without improvement
    assert first["ran"] == [1, 2, 3] and resumed["ran"] == [4]  # the restored counter stops it at 4 as well
    _same_state(resumed["net"].state_dict(), whole["net"].state_dict())
    _same_state(resumed["opt"].state_dict(), whole["opt"].state_dict())
    _same_state(resumed["sched"].state_dict(), whole["sched"].state_dict())
    assert resumed["early_stop"].state_dict() == whole["early_stop"].state_dict()
    best = (resumed["validator"].state.best_metric, resumed["validator"].state.best_metric_epoch)
    assert best == (0.8, 2)


def test_worse_epochs_after_resume_leave_the_best_model_alone(runs):
    tmp = runs["tmp"]
    epoch2 = torch.load(tmp / "whole" / "model.pt", weights_only=True)
    resumed_best = torch.load(tmp / "split" / "model.pt", weights_only=True)
    _same_state(resumed_best, epoch2)
    assert not torch.equal(resumed_best["weight"], runs["resumed"]["net"].weight.detach())  # 2 epochs later


def test_one_epoch_checkpoint_is_kept_and_the_final_file_holds_the_last_state(runs):
    split = runs["tmp"] / "split"
    assert sorted(os.listdir(split)) == ["checkpoint_epoch=4.pt", "model.pt", "model_final.pt"]  # epoch 3 pruned
    final = torch.load(split / "model_final.pt", weights_only=True)
    assert final["trainer"]["iteration"] == 4 * 3  # 4 epochs of 3 batches
    _same_state(final["model"], runs["resumed"]["net"].state_dict())
    _same_state(final, torch.load(split / "checkpoint_epoch=4.pt", weights_only=True))


class _Counter:
    def __init__(self):
        self.value = 0

    def state_dict(self):
        return {"value": self.value}

    def load_state_dict(self, state):
        self.value = state["value"]


def test_saves_after_the_handlers_attached_after_it_and_keeps_n_saved(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    counter = _Counter()
    trainer = SupervisedTrainer(
        torch.device("cpu"), 4, _data(4, 0), net, torch.optim.SGD(net.parameters(), lr=0.1), torch.nn.MSELoss()
    )
    ResumableCheckpoint(str(tmp_path), {"model": net, "counter": counter}, n_saved=2).attach(trainer)
    trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda e: setattr(counter, "value", e.state.epoch))
    (tmp_path / "checkpoint_epoch=9.pt").write_bytes(b"an earlier run")  # a fresh run must not leave it behind
    (tmp_path / ".checkpoint_epoch=2.pt.abc.tmp").write_bytes(b"half")  # a killed write
    trainer.run()
    assert sorted(os.listdir(tmp_path)) == ["checkpoint_epoch=3.pt", "checkpoint_epoch=4.pt", "model_final.pt"]
    for epoch in (3, 4):  # the counter was set by a handler attached after the checkpoint, yet it is saved
        assert torch.load(tmp_path / f"checkpoint_epoch={epoch}.pt", weights_only=True)["counter"]["value"] == epoch


def test_resume_refuses_a_file_without_model_or_trainer_and_an_epoch_beyond_max_epochs(tmp_path):
    net = torch.nn.Linear(3, 1)
    torch.save({"model": net.state_dict()}, tmp_path / "checkpoint_epoch=2.pt")
    trainer = SupervisedTrainer(
        torch.device("cpu"), 4, _data(4, 0), net, torch.optim.SGD(net.parameters(), lr=0.1), torch.nn.MSELoss()
    )
    ResumableCheckpoint(str(tmp_path), {"model": net}, resume=True).attach(trainer)
    with pytest.raises(KeyError, match=r"checkpoint_epoch=2.pt has no \['trainer'\]"):
        trainer.run()
    _run(str(tmp_path / "long"), 3)
    with pytest.raises(ValueError, match=r"checkpoint_epoch=3.pt is at epoch 3, beyond --epochs 2"):
        _run(str(tmp_path / "long"), 2, resume=True)


def _amp_trainer(ckpt_dir: str, resume: bool, init_scale: float, max_epochs: int, new_scale=None):
    """A trainer with an enabled gradient scaler: MONAI's ``Trainer.run`` makes a CUDA one under ``amp``; a CPU one
    stands in for it here, set (and optionally lowered to ``new_scale``) before the checkpoint's STARTED handler."""
    net = torch.nn.Linear(3, 1)
    trainer = SupervisedTrainer(
        torch.device("cpu"), max_epochs, _data(4, 0), net, torch.optim.SGD(net.parameters(), lr=0.1), torch.nn.MSELoss()
    )

    def make_scaler(engine):
        engine.scaler = torch.amp.GradScaler("cpu", init_scale=init_scale)
        if new_scale is not None:  # as if overflowing steps had lowered the scale
            engine.scaler.scale(torch.ones(1))
            engine.scaler.update(new_scale=new_scale)

    trainer.add_event_handler(Events.STARTED, make_scaler)
    ResumableCheckpoint(ckpt_dir, {"model": net}, resume=resume).attach(trainer)
    seen = []
    trainer.add_event_handler(Events.STARTED, lambda e: seen.append(e.scaler.get_scale()))
    trainer.run()
    return seen[0]


def test_resume_restores_the_amp_gradient_scaler(tmp_path):
    _amp_trainer(str(tmp_path), resume=False, init_scale=512.0, max_epochs=2, new_scale=64.0)
    assert torch.load(tmp_path / "checkpoint_epoch=2.pt", weights_only=True)["scaler"]["scale"] == 64.0
    assert _amp_trainer(str(tmp_path), resume=True, init_scale=512.0, max_epochs=3) == 64.0  # not a fresh 512


def test_a_checkpoint_saved_without_amp_resumes_with_a_fresh_scaler(tmp_path):
    _run(str(tmp_path), 2)  # no scaler in its checkpoints
    assert _amp_trainer(str(tmp_path), resume=True, init_scale=256.0, max_epochs=3) == 256.0
