"""Training with an empty validation list, as MONAI Label's ``POST /train/<bundle>`` with ``"val_split": 0.0`` runs it
(its train task overrides ``validate#dataset#data`` with ``[]``): the run finishes and says once what it skipped."""

from __future__ import annotations

import csv
import logging
import os

from bundle_workflow import config_workflow, run

from monai_cbis.data import make_synthetic_cbis

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = os.path.join(REPO, "bundles", "unet_roi", "configs")


def test_one_epoch_without_validation_data_finishes_and_logs_the_skips(tmp_path, caplog):
    data = make_synthetic_cbis(tmp_path / "cbis", layout="classic", cases=8, seed=3).root
    root = str(tmp_path / "bundle")
    wf = config_workflow([f"{CONFIGS}/train.json"], f"{CONFIGS}/metadata.json", "train", bundle_root=root,
                         dataset_dir=data, cache_dir=str(tmp_path / "cache"), epochs=1, image_size=[32, 32],
                         margin=8, batch_size=2, val_frac=0.2, **{"validate#dataset#data": []})  # fmt: skip
    with caplog.at_level(logging.INFO):
        run(wf)
    messages = [r.getMessage() for r in caplog.records]
    skips = [m for m in messages if "the validation list is empty" in m]
    assert len(skips) == 2 and any("ReduceLROnPlateau" in m for m in skips), skips  # the default plateau schedule
    assert any("no best model was selected" in m for m in messages)
    assert sorted(os.listdir(os.path.join(root, "models"))) == ["checkpoint_epoch=1.pt", "model_final.pt"]
    with open(os.path.join(root, "eval", "history.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1"] and rows[0]["val_mean_dice"] == ""
