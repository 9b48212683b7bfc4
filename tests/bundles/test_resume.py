"""``--resume true`` after a real SIGKILL, for one bundle of each family (segmentation, classification, detection).

The bundle runs as users run it (``python -m monai.bundle run``) and is killed with SIGKILL as soon as an epoch
checkpoint appears. The resumed run (in-process, so that its objects can be inspected) must restore the weights,
optimizer, LR scheduler, the validator's best metric and the early-stop counter from that checkpoint, and after a
learning rate that wrecks the weights, ``models/model.pt`` must still be the pre-interruption best, ``history.csv``
must list every epoch once and the only epoch checkpoint left must be the last one.
"""

from __future__ import annotations

import copy
import csv
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from bundle_workflow import config_workflow
from ignite.engine import Events

from monai_cbis.data import make_synthetic_cbis
from monai_cbis.handlers import EarlyStopOnValidation

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPOCHS = 4  # the interrupted run would train this many; the resumed run finishes them
QUICK = {"batch_size": 4, "num_workers": 0, "val_frac": 0.4, "early_stop_patience": 20}
#: Per bundle: its quick settings, and the key metric that selects models/model.pt.
BUNDLES = {
    "unet_roi": ({"image_size": [64, 64], "margin": 16}, "val_mean_dice"),
    "mobilenetv2_classification": ({"image_size": [64, 64]}, "val_auc"),
    # boxes scored >= 0.001 are kept, so the untrained detector's (about 0.01) count and AP@0.1 before the kill is > 0
    "retinanet_detection": (
        {"long_side": 64, "anchor_sizes": [[8, 8], [16, 16], [24, 24]], "detector#score_thresh": 0.001},
        "val_map_0.1",
    ),
}
#: Collections on which two epochs reach a best key metric that a wrecked model cannot beat (AUC 1 for mobilenet).
DATA_SEED = {"unet_roi": 3, "mobilenetv2_classification": 4, "retinanet_detection": 3}


def _args(overrides: dict) -> list[str]:
    out = []
    for key, value in overrides.items():
        out += [f"--{key}", str(value).replace("'", '"')]
    return out


def _epoch_files(models: str) -> list[int]:
    names = os.listdir(models) if os.path.isdir(models) else []
    return sorted(int(n[len("checkpoint_epoch=") : -3]) for n in names if n.startswith("checkpoint_epoch="))


def _history(root: str) -> list[dict]:
    with open(os.path.join(root, "eval", "history.csv")) as f:
        return list(csv.DictReader(f))


def _same(a, b, where: str = "") -> None:
    """Equal nested state dicts (tensors compared by value)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}/{i}")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a.cpu(), torch.as_tensor(b).cpu()), where
    else:
        assert a == b, where


@pytest.fixture
def data(tmp_path, request):
    seed = DATA_SEED[request.node.callspec.params["name"]]
    return {"tmp": tmp_path, "root": make_synthetic_cbis(tmp_path / "cbis", layout="classic", cases=12, seed=seed).root}


def _killed_run(name: str, data, root: str) -> int:
    """Start training in a subprocess and SIGKILL it right after an epoch checkpoint >= 2 appears."""
    configs = os.path.join(REPO, "bundles", name, "configs")
    cmd = [sys.executable, "-m", "monai.bundle", "run", "--config_file", f"{configs}/train.json",
           "--meta_file", f"{configs}/metadata.json", "--logging_file", f"{configs}/logging.conf",
           *_args({"bundle_root": root, "dataset_dir": data["root"], "cache_dir": str(data["tmp"] / "cache"),
                   "epochs": EPOCHS, **QUICK, **BUNDLES[name][0]})]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    log = open(os.path.join(str(data["tmp"]), f"{name}.log"), "w+")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    models = os.path.join(root, "models")
    deadline = time.monotonic() + 300
    try:
        while not any(e >= 2 for e in _epoch_files(models)):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"{name} ended (rc {proc.returncode}) before checkpoint_epoch=2.pt:\n{log.read()[-3000:]}")
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    epochs = _epoch_files(models)
    assert epochs[-1] < EPOCHS, "the run finished before it was killed"
    return epochs[-1]


def _wreck(name: str, trainer, net, optimizer) -> None:
    """From the resume on, every training step leaves a model that validates worse than any before the kill."""
    if name != "retinanet_detection":
        for group in optimizer.param_groups:
            group["lr"] = 1e4
        return

    # A huge rate overflows the detector (MONAI's RetinaNet raises on NaN logits). Instead every step ends with a
    # classification bias that scores each anchor about 1e-13, under the detector's threshold: no box, AP 0.
    @trainer.on(Events.ITERATION_COMPLETED)
    def _no_boxes(engine) -> None:
        with torch.no_grad():
            net.classification_head.cls_logits.bias.fill_(-30.0)


@pytest.mark.parametrize("name", list(BUNDLES))
def test_killed_run_resumes_with_its_whole_state(name, data):
    root = str(data["tmp"] / name)
    killed_at = _killed_run(name, data, root)
    models = os.path.join(root, "models")
    checkpoint = torch.load(os.path.join(models, f"checkpoint_epoch={killed_at}.pt"), weights_only=True)
    best_before = torch.load(os.path.join(models, "model.pt"), weights_only=True)
    configs = os.path.join(REPO, "bundles", name, "configs")
    key = BUNDLES[name][1]
    scores = {int(r["epoch"]): float(r[key]) for r in _history(root) if int(r["epoch"]) <= killed_at}

    wf = config_workflow([f"{configs}/train.json"], f"{configs}/metadata.json", "train", bundle_root=root,
                         dataset_dir=data["root"], cache_dir=str(data["tmp"] / "cache"), epochs=EPOCHS, resume=True,
                         **QUICK, **BUNDLES[name][0])  # fmt: skip
    wf.initialize()
    get = wf.parser.get_parsed_content
    trainer, net, optimizer = get("train#trainer"), get("network"), get("optimizer")
    scheduler, evaluator = get("lr_scheduler"), get("validate#evaluator")
    (early_stop,) = [h for h in get("train#handlers") if isinstance(h, EarlyStopOnValidation)]
    restored = {}

    def after_load(engine):  # attached after ResumableCheckpoint's loader: sees what was restored
        restored.update(copy.deepcopy({
            "epoch": engine.state.epoch, "model": net.state_dict(), "optimizer": optimizer.state_dict(),
            "lr_scheduler": scheduler.state_dict(), "early_stop": early_stop.state_dict(),
            "best": (evaluator.state.best_metric, evaluator.state.best_metric_epoch)}))  # fmt: skip
        _wreck(name, trainer, net, optimizer)

    trainer.add_event_handler(Events.STARTED, after_load)
    ran = []
    trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda e: ran.append(e.state.epoch))
    wf.run()
    wf.finalize()

    assert restored["epoch"] == killed_at and ran == list(range(killed_at + 1, EPOCHS + 1))
    _same(restored["model"], checkpoint["model"], "model")
    _same(restored["optimizer"], checkpoint["optimizer"], "optimizer")
    assert restored["optimizer"]["state"], "Adam's moments were restored, not started afresh"
    _same(restored["lr_scheduler"], checkpoint["lr_scheduler"], "lr_scheduler")
    best_epoch = max(scores, key=lambda e: (scores[e], -e))
    assert restored["best"][1] == best_epoch and restored["best"][0] == pytest.approx(scores[best_epoch], abs=1e-4)
    assert restored["early_stop"] == checkpoint["early_stop"]
    assert restored["early_stop"]["bad_validations"] == killed_at - best_epoch  # counted across the kill

    history = _history(root)
    assert [int(r["epoch"]) for r in history] == list(range(1, EPOCHS + 1))  # every epoch once
    later = [float(r[key]) for r in history if int(r["epoch"]) > killed_at]
    assert max(later) < scores[best_epoch], (scores, later)  # the resumed epochs were all worse ...
    _same(torch.load(os.path.join(models, "model.pt"), weights_only=True), best_before, "model.pt")  # ... so kept
    assert _epoch_files(models) == [EPOCHS]
    assert evaluator.state.best_metric_epoch == best_epoch
