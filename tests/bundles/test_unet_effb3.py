"""bundles/unet_effb3 in the style of model-zoo's CI: ConfigWorkflow initialize / check_properties / run / finalize
for train, evaluate and inference on generated data, plus verify_net_in_out and TorchScript export."""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from bundle_workflow import (
    checked_lesion_report,
    checked_original_geometry_report,
    checked_segmentation_report,
    config_workflow,
    raised,
    run,
)
from monai.bundle import ConfigWorkflow, ckpt_export, verify_net_in_out
from PIL import Image
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis, read_header

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUNDLE = os.path.join(REPO, "bundles", "unet_effb3")
QUICK = {"image_size": [64, 64], "batch_size": 4, "num_workers": 0, "val_frac": 0.3}


def cfg(*names: str) -> list[str]:
    return [os.path.join(BUNDLE, "configs", n) for n in names]


def workflow(config_files, workflow_type, **overrides) -> ConfigWorkflow:
    return config_workflow(config_files, os.path.join(BUNDLE, "configs", "metadata.json"), workflow_type, **overrides)


@pytest.fixture(scope="module")
def env(request, tmp_path_factory):
    tmp = scratch_dir(request, tmp_path_factory, "unet_effb3")
    data = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=10, seed=0)
    return {"tmp": tmp, "data": data.root, "cache_dir": str(tmp / "cache")}


@pytest.fixture(scope="module")
def trained(env):
    root = str(env["tmp"] / "bundle")
    wf = workflow(cfg("train.json"), "train", bundle_root=root, dataset_dir=env["data"], cache_dir=env["cache_dir"],
                  epochs=2, **QUICK)  # fmt: skip
    run(wf)
    return root


def test_train_writes_checkpoints_curves_and_logs_inside_bundle_root(trained):
    models = os.listdir(os.path.join(trained, "models"))
    assert "model.pt" in models and "checkpoint_epoch=2.pt" in models
    state = torch.load(os.path.join(trained, "models", "model.pt"), weights_only=True)
    assert any(k.startswith("encoder.") for k in state)
    eval_dir = os.path.join(trained, "eval")
    assert os.path.isfile(os.path.join(eval_dir, "training_curves.png"))
    with open(os.path.join(eval_dir, "history.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and "val_mean_dice" in rows[0]


def test_resume_without_checkpoint_says_where_it_looked(env):
    wf = workflow(cfg("train.json"), "train", bundle_root=str(env["tmp"] / "fresh"), dataset_dir=env["data"],
                  cache_dir=env["cache_dir"], epochs=1, resume=True, **QUICK)  # fmt: skip
    wf.initialize()
    with pytest.raises(Exception) as e:
        wf.run()
    assert raised(e, FileNotFoundError, r"no checkpoint_epoch=N.pt in .*fresh.models")


def test_evaluate_writes_metrics_per_image_csv_and_overlays(env, trained):
    wf = workflow(cfg("train.json", "evaluate.json"), "eval", bundle_root=trained, dataset_dir=env["data"],
                  cache_dir=env["cache_dir"], **QUICK)  # fmt: skip
    run(wf)
    out = os.path.join(trained, "eval")
    metrics, rows = checked_segmentation_report(out)  # every figure recomputed from the per-image rows
    # one row per test film with a usable mass mask (the manifest's truth), each scored against its non-empty label
    manifest = json.load(open(os.path.join(env["data"], "synthetic_manifest.json")))  # noqa: SIM115
    films = {
        r["full_image"]
        for r in manifest["rows"]
        if r["split"] == "test" and r["abnormality_type"] == "mass" and not r["mask_wrong_size"]
    }
    assert sorted(os.path.realpath(r["image"]) for r in rows) == sorted(os.path.realpath(f) for f in films)
    assert all(int(r["label_lesion_pixels"]) > 0 and int(r["total_pixels"]) == 64 * 64 for r in rows)
    assert metrics["n_empty_label"] == 0
    assert len(os.listdir(os.path.join(out, "overlays"))) == min(len(rows), 8)
    # named by the case: the film's series folder (Mass-Test_P_00477_RIGHT_CC), in the CSV and the overlay files
    assert all(r["case"] in r["image"].split(os.sep) for r in rows)
    assert set(os.listdir(os.path.join(out, "overlays"))) <= {f"{r['case']}.png" for r in rows}
    # the breast gate ran on every prediction (gate_by_breast defaults to true) and its totals are in metrics.json
    gate = metrics["breast_gate"]
    assert gate["images"] == len(rows) and 0 <= gate["images_with_removals"] <= len(rows)
    assert gate["removed_pixels"] >= gate["removed_components"] >= 0
    # lesion level: the components of the predicted masks as marks, each lesion tied to its own CSV row
    truth: dict[str, list[dict]] = {}
    for r in manifest["rows"]:
        if r["full_image"] in films and r["abnormality_type"] == "mass" and not r["mask_wrong_size"]:
            truth.setdefault(r["full_image"], []).append(r)
    lesion_level, lesions = checked_lesion_report(out, truth)
    assert lesion_level["scores_from"].startswith("the highest value of 'pred_prob'")
    assert lesion_level["n_women"] == len({r["patient_id"] for rs in truth.values() for r in rs})
    # one ground-truth lesion per CSV row, from the preset's lesion index map: never "mixed" (issue 10)
    assert lesion_level["lesions_from"].startswith("one per mask of the item")
    assert "mixed" not in {r[f] for r in lesions for f in ("abnormality_type", "pathology", "abnormality_id")}


def test_evaluate_at_the_original_film_geometry(env, trained, tmp_path):
    """``eval_geometry original``: each 64 x 64 prediction back on its film, scored against the film's own masks."""
    run(workflow(cfg("train.json", "evaluate.json"), "eval", bundle_root=trained, dataset_dir=env["data"],
                 cache_dir=env["cache_dir"], output_dir=str(tmp_path), eval_geometry="original", **QUICK))  # fmt: skip
    manifest = json.load(open(os.path.join(env["data"], "synthetic_manifest.json")))  # noqa: SIM115
    truth: dict[str, list[dict]] = {}
    for r in manifest["rows"]:
        if r["split"] == "test" and r["abnormality_type"] == "mass" and not r["mask_wrong_size"]:
            truth.setdefault(r["full_image"], []).append(r)
    checked_original_geometry_report(str(tmp_path), truth)
    assert 0 < len(os.listdir(tmp_path / "overlays")) <= 8


def test_inference_writes_one_mask_per_input_at_original_size(env, trained, tmp_path, caplog):
    manifest = json.load(open(os.path.join(env["data"], "synthetic_manifest.json")))  # noqa: SIM115
    full = [r["full_image"] for r in manifest["rows"]][:2]
    src = tmp_path / "inputs"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    shutil.copy(full[0], src / "a" / "1-1.dcm")  # NBIA-style names collide across folders
    shutil.copy(full[1], src / "b" / "1-1.dcm")
    from monai_cbis.data import read_array

    png = read_array(full[1])
    Image.fromarray((png / max(png.max(), 1) * 255).astype(np.uint8)).save(src / "film.png")
    out = tmp_path / "masks"
    wf = workflow(cfg("inference.json"), "infer", bundle_root=trained, dataset_dir=str(src), output_dir=str(out),
                  image_size=[64, 64])  # fmt: skip
    with caplog.at_level(logging.INFO):
        run(wf)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Removed outside the breast: ")]
    assert len(said) == 1 and re.search(r"\d+ pixels, \d+ components in \d of 3 images\.$", said[0]), said
    written = sorted(
        os.path.relpath(os.path.join(d, n), out) for d, _, ns in os.walk(out) for n in ns if n != "skipped.json"
    )
    assert written == ["a/1-1.png", "b/1-1.png", "film.png"]
    for rel, source in (("a/1-1.png", full[0]), ("b/1-1.png", full[1])):
        hdr = read_header(source)
        with Image.open(out / rel) as im:
            assert (im.height, im.width) == (hdr.rows, hdr.columns)  # original size and orientation
            assert set(np.unique(np.asarray(im))) <= {0, 255}


def test_wrong_dataset_dir_is_an_error_never_the_demo(env, tmp_path):
    wf = workflow(cfg("train.json"), "train", bundle_root=str(tmp_path), dataset_dir=str(tmp_path / "nope"),
                  cache_dir=env["cache_dir"], epochs=1, **QUICK)  # fmt: skip
    wf.initialize()
    with pytest.raises(Exception) as e:
        wf.run()
    assert raised(e, FileNotFoundError, "does not exist or is not a folder")


def test_net_in_out_and_torchscript_export(trained, tmp_path):
    verify_net_in_out(net_id="network_def", meta_file=os.path.join(BUNDLE, "configs", "metadata.json"),
                      config_file=cfg("inference.json")[0], device="cpu", n=4)  # fmt: skip
    ts = tmp_path / "model.ts"
    ckpt_export(net_id="network_def", filepath=str(ts), ckpt_file=os.path.join(trained, "models", "model.pt"),
                meta_file=os.path.join(BUNDLE, "configs", "metadata.json"), config_file=cfg("inference.json")[0],
                bundle_root=trained, use_trace=True, input_shape=[1, 1, 64, 64])  # fmt: skip
    net = torch.jit.load(str(ts))
    assert net(torch.rand(1, 1, 64, 64)).shape == (1, 1, 64, 64)


def test_readme_main_command_from_the_repository_root(tmp_path):
    """The README's command with one epoch at a small size; outputs go into the bundle root, never the cwd."""
    bundle_copy = tmp_path / "unet_effb3"
    shutil.copytree(BUNDLE, bundle_copy, ignore=shutil.ignore_patterns("models", "eval"))
    env = {**os.environ, "MONAI_CBIS_CACHE": str(tmp_path / "cache"), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "monai.bundle", "run", "training", "--config_file",
           str(bundle_copy / "configs" / "train.json"), "--epochs", "1", "--image_size", "[64, 64]",
           "--num_workers", "0"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "synthetic demo data at" in proc.stdout + proc.stderr
    assert os.path.isfile(bundle_copy / "models" / "model.pt")
    assert sorted(os.listdir(tmp_path)) == ["cache", "unet_effb3"]  # nothing loose in the current directory


def test_use_imagenet_pretrain_reads_the_local_cache_or_names_the_missing_file(env, tmp_path, monkeypatch):
    """--use_imagenet_pretrain true: offline from $TORCH_HOME/hub/checkpoints, else an error naming the file."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    overrides = dict(bundle_root=str(tmp_path), dataset_dir=env["data"], use_imagenet_pretrain=True, **QUICK)
    wf = workflow(cfg("train.json"), "train", **overrides)
    wf.initialize()
    with pytest.raises(Exception) as e:
        wf.parser.get_parsed_content("network_def")
    expected = tmp_path / "torch" / "hub" / "checkpoints" / "efficientnet-b3-5fb5a3c3.pth"
    assert raised(e, FileNotFoundError, re.escape(str(expected)))  # names the exact file to put where

    from monai.networks.nets import EfficientNetBNFeatures

    saved = EfficientNetBNFeatures("efficientnet-b3", pretrained=False, in_channels=3).state_dict()
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(saved, folder / "efficientnet-b3-5fb5a3c3.pth")
    wf = workflow(cfg("train.json"), "train", **overrides)
    wf.initialize()
    net = wf.parser.get_parsed_content("network_def")
    # the cached weights were loaded: the 1-channel stem is the saved RGB stem summed over its input channels
    assert torch.allclose(net.encoder._conv_stem.weight, saved["_conv_stem.weight"].sum(dim=1, keepdim=True))
