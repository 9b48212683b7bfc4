"""A classifier bundle learns: on an easy synthetic set its training loss falls and its test AUC beats chance by a
margin that luck does not give (the segmentation family's counterpart is unet_roi's run in test_paper_b_bundles).

The easy set is ``make_synthetic_cbis(malignant_signal=-1)``: malignant lesions are drawn dark, benign ones bright.
With the default generator pathology shows only in shape and margin, which a network from scratch does not pick up
from a few dozen crops in seconds. The bundle runs as shipped except for small, quick settings and
``trainable_layers 0``: the from-scratch backbone is frozen (a fixed random feature extractor, batch norm in eval
mode) and the dense head learns. Training the whole backbone from scratch on 40 crops was measured to swing the
test AUC between 0.3 and 0.9 from epoch to epoch: its batch-norm statistics do not settle in a few dozen steps.
"""

from __future__ import annotations

import csv
import os

import pytest
from bundle_workflow import checked_classification_report, config_workflow, run
from scipy.stats import mannwhitneyu
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME = "mobilenetv2_classification"
CONFIGS = os.path.join(REPO, "bundles", NAME, "configs")
QUICK = {"image_size": [64, 64], "margin": 8, "batch_size": 8, "num_workers": 0, "val_frac": 0.4, "epochs": 5,
         "learning_rate": 3e-4, "trainable_layers": 0, "seed": 0}  # fmt: skip


def workflow(files, kind: str, **overrides):
    return config_workflow([os.path.join(CONFIGS, f) for f in files], os.path.join(CONFIGS, "metadata.json"), kind,
                           **overrides)  # fmt: skip


@pytest.fixture(scope="module")
def easy(request, tmp_path_factory):
    tmp = scratch_dir(request, tmp_path_factory, "easy_classification")
    collection = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=40, seed=3, malignant_signal=-1)
    return {"tmp": tmp, "root": collection.root, "collection": collection}


def test_mobilenetv2_learns_the_easy_set_and_beats_chance(easy):
    root = str(easy["tmp"] / "run")
    settings = {"bundle_root": root, "dataset_dir": easy["root"], "cache_dir": str(easy["tmp"] / "cache"), **QUICK}
    run(workflow(["train.json"], "train", **settings))
    run(workflow(["train.json", "evaluate.json"], "eval", **settings))
    with open(os.path.join(root, "eval", "history.csv")) as f:
        history = list(csv.DictReader(f))
    metrics, rows = checked_classification_report(os.path.join(root, "eval"))
    tests = [r for r in easy["collection"].rows if r.split == "test" and not r.mask_wrong_size]
    assert len(rows) == len(tests) and metrics["n_malignant"] == sum(r.pathology == "MALIGNANT" for r in tests)
    # it learned: the training loss fell (dropout 0.5 and a class-balanced sampler drawn with replacement make it
    # noisy from epoch to epoch, so: the last epoch and the mean of the later ones are below the first) and the
    # validation AUC rose
    losses = [float(r["train_loss"]) for r in history]
    assert len(losses) == QUICK["epochs"], losses
    assert losses[-1] < losses[0] and sum(losses[2:]) / len(losses[2:]) < losses[0], losses
    val_auc = [float(r["val_auc"]) for r in history]
    assert max(val_auc[1:]) > val_auc[0], val_auc
    # The one-sided exact Mann-Whitney test of "malignant cases score higher": the chance that scores unrelated to
    # the pathology reach this AUC. 1e-3 is far beyond luck, yet met with margin (about 1e-5 was measured).
    malignant = [float(r["prob_malignant"]) for r in rows if r["true_label"] == "1"]
    benign = [float(r["prob_malignant"]) for r in rows if r["true_label"] == "0"]
    assert len(malignant) >= 5 and len(benign) >= 5
    p = mannwhitneyu(malignant, benign, alternative="greater", method="exact").pvalue
    assert p < 1e-3, (metrics["roc_auc"], p)
    assert metrics["roc_auc"] > 0.85, metrics
