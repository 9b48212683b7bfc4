"""Training with an empty validation list, as MONAI Label's ``POST /train/<bundle>`` with ``"val_split": 0.0`` runs it
(its train task overrides ``validate#dataset#data`` with ``[]``): the run finishes, says once what it skipped and
leaves its final weights as ``models/model.pt``. Training with nothing to train on stops with a clear error."""

from __future__ import annotations

import csv
import logging
import os

import pytest
import torch
from bundle_workflow import config_workflow, raised, run
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = os.path.join(REPO, "bundles", "unet_roi", "configs")


@pytest.fixture(scope="module")
def data(request, tmp_path_factory):
    return make_synthetic_cbis(scratch_dir(request, tmp_path_factory, "empty") / "cbis", cases=8, seed=3).root


def test_one_epoch_without_validation_data_finishes_and_logs_the_skips(data, tmp_path, caplog):
    root = str(tmp_path / "bundle")
    wf = config_workflow([f"{CONFIGS}/train.json"], f"{CONFIGS}/metadata.json", "train", bundle_root=root,
                         dataset_dir=data, cache_dir=str(tmp_path / "cache"), epochs=1, image_size=[32, 32],
                         margin=8, batch_size=2, val_frac=0.2, **{"validate#dataset#data": []})  # fmt: skip
    with caplog.at_level(logging.INFO):
        run(wf)
    messages = [r.getMessage() for r in caplog.records]
    skips = [m for m in messages if "the validation list is empty" in m]
    assert len(skips) == 2 and any("ReduceLROnPlateau" in m for m in skips), skips  # the default plateau schedule
    assert any("no best model was selected" in m and "holds the final weights" in m for m in messages)
    # model.pt is what evaluation, inference and MONAI Label load: the final weights when nothing picked a best one
    models = os.path.join(root, "models")
    assert sorted(os.listdir(models)) == ["checkpoint_epoch=1.pt", "model.pt", "model_final.pt"]
    final = torch.load(os.path.join(models, "model_final.pt"), weights_only=True)["model"]
    saved = torch.load(os.path.join(models, "model.pt"), weights_only=True)
    assert sorted(saved) == sorted(final) and all(torch.equal(saved[k], final[k]) for k in final)
    with open(os.path.join(root, "eval", "history.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1"] and rows[0]["val_mean_dice"] == ""


def test_a_training_loader_without_a_batch_is_an_error_that_says_why(data, tmp_path):
    """Fewer lesions than one batch (unet_roi drops a last incomplete batch): MONAI's trainer would skip the run with
    a warning and exit 0; the bundle stops and says how many items were left, what was skipped and where the list is."""
    root = tmp_path / "bundle"
    wf = config_workflow([f"{CONFIGS}/train.json"], f"{CONFIGS}/metadata.json", "train", bundle_root=str(root),
                         dataset_dir=data, cache_dir=str(tmp_path / "cache"), epochs=1, image_size=[32, 32],
                         margin=8, batch_size=64, val_frac=0.2)  # fmt: skip
    wf.initialize()
    with pytest.raises(Exception) as e:
        wf.run()
    report = root / "eval" / "skipped_training.json"
    pattern = (r"Nothing to train on: \d+ item\(s\) are left \(batch size 64 and a last incomplete batch is "
               r"dropped\), so the data loader yields no batch; skipped \d+ rows? or files?: mask_wrong_size=\d+\. "
               rf"The full list \(path, row, reason\): {report}")  # fmt: skip
    assert raised(e, ValueError, pattern), e.value
    assert report.is_file() and not (root / "models" / "model.pt").exists()
