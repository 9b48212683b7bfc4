"""Paper B's seven bundles in the style of model-zoo CI: one short epoch of training, evaluation and inference on
generated data through ``ConfigWorkflow`` (initialize / check_properties / run / finalize), then
``verify_net_in_out`` and TorchScript export of the trained checkpoint."""

from __future__ import annotations

import csv
import json
import os
import re

import pytest
import torch
from bundle_workflow import (
    checked_classification_report,
    checked_lesion_report,
    checked_segmentation_report,
    config_workflow,
    raised,
    run,
)
from monai.bundle import ConfigWorkflow, ckpt_export, verify_net_in_out
from PIL import Image
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis, read_header
from monai_cbis.zoo import SPECS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEGMENTERS = ["unet_roi", "deeplabv3plus_r50"]
CLASSIFIERS = [n for n in SPECS if n.endswith("_classification")]
SIZE = 64


def cfg(name: str, *files: str) -> list[str]:
    return [os.path.join(REPO, "bundles", name, "configs", f) for f in files]


def meta(name: str) -> str:
    return os.path.join(REPO, "bundles", name, "configs", "metadata.json")


def workflow(name: str, files, workflow_type: str, **overrides) -> ConfigWorkflow:
    return config_workflow(cfg(name, *files), meta(name), workflow_type, **overrides)


@pytest.fixture(scope="module")
def data(request, tmp_path_factory):
    tmp = scratch_dir(request, tmp_path_factory, "paper_b")
    collection = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=12, seed=3)
    return {"tmp": tmp, "root": collection.root, "collection": collection, "cache": str(tmp / "cache")}


def quick(name: str) -> dict:
    q = {"image_size": [SIZE, SIZE], "batch_size": 4, "num_workers": 0, "val_frac": 0.4, "epochs": 1}
    if name in SEGMENTERS:
        q["margin"] = 16
    return q


# The run of one bundle per family also shows learning: a few more (one-item) steps, still seconds at 64 px.
LEARNING = {"unet_roi": {"epochs": 3, "batch_size": 1}}

_trained: dict[str, str] = {}
_models_written: dict[str, list[str]] = {}


def trained(name: str, data) -> str:
    """Train once per bundle and module (one epoch, or the LEARNING run); return the bundle root.

    The epoch checkpoints are listed, then deleted: the tests that follow read ``models/model.pt`` only, and an
    epoch checkpoint carries the optimizer state too (about 1 GB for ViT-B/16), on a CI disk that is not large.
    """
    if name not in _trained:
        root = str(data["tmp"] / name)
        run(workflow(name, ["train.json"], "train", bundle_root=root, dataset_dir=data["root"],
                     cache_dir=data["cache"], **{**quick(name), **LEARNING.get(name, {})}))  # fmt: skip
        models = os.path.join(root, "models")
        _models_written[name] = sorted(os.listdir(models))
        for f in _models_written[name]:
            if f.startswith("checkpoint_epoch="):
                os.remove(os.path.join(models, f))
        _trained[name] = root
    return _trained[name]


def _history(root: str) -> list[dict]:
    with open(os.path.join(root, "eval", "history.csv")) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("name", SEGMENTERS + CLASSIFIERS)
def test_train_evaluate_and_export(name, data, tmp_path):
    root = trained(name, data)
    epochs = LEARNING.get(name, {}).get("epochs", 1)
    models = _models_written[name]
    assert "model.pt" in models and f"checkpoint_epoch={epochs}.pt" in models
    history = _history(root)
    assert [int(r["epoch"]) for r in history] == list(range(1, epochs + 1))

    run(workflow(name, ["train.json", "evaluate.json"], "eval", bundle_root=root, dataset_dir=data["root"],
                 cache_dir=data["cache"], **quick(name)))  # fmt: skip
    # every figure recomputed from the per-case rows, and one row per test lesion of the bundle's task (the truth)
    tests = [r for r in data["collection"].rows if r.split == "test" and not r.mask_wrong_size]
    if name in SEGMENTERS:
        metrics, rows = checked_segmentation_report(os.path.join(root, "eval"))
        assert len(rows) == sum(r.abnormality_type == "mass" for r in tests)
        assert all(int(r["label_lesion_pixels"]) > 0 and int(r["total_pixels"]) == SIZE * SIZE for r in rows)
        assert len(os.listdir(os.path.join(root, "eval", "overlays"))) == min(len(rows), 8)
        # lesion level per crop: each crop's lesion carries its own CSV row (the label file is the row's mask)
        films: dict[str, list[dict]] = {}
        for r in tests:
            if r.abnormality_type == "mass":
                films.setdefault(r.full_image, []).append(vars(r))
        lesion_level, lesions = checked_lesion_report(os.path.join(root, "eval"), films)
        assert lesion_level["lesions_from"].startswith("one per connected component of the item's ROI mask")
        masks = {os.path.realpath(r.full_image): {(x.abnormality_type, x.pathology) for x in tests
                                                  if x.full_image == r.full_image} for r in tests}  # fmt: skip
        assert all((x["abnormality_type"], x["pathology"]) in masks[os.path.realpath(x["image"])] for x in lesions)
        assert {x["abnormality_type"] for x in lesions} == {"mass"}  # never "mixed": one row per crop
        if name in LEARNING:  # it learned: the loss fell every epoch, and the test Dice beats any constant mask
            losses = [float(r["train_loss"]) for r in history]
            assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
            # all-lesion scores 2 n_lesion / (n_lesion + n) per crop (all-background scores 0: labels are not empty)
            chance = sum(2 * int(r["label_lesion_pixels"]) / (int(r["label_lesion_pixels"]) + SIZE * SIZE)
                         for r in rows) / len(rows)  # fmt: skip
            assert metrics["lesion_dice"] > chance + 0.1, (metrics["lesion_dice"], chance)
    else:
        metrics, rows = checked_classification_report(os.path.join(root, "eval"))
        assert len(rows) == len(tests) and metrics["n_malignant"] == sum(r.pathology == "MALIGNANT" for r in tests)
        for f in ("confusion_matrix.png", "roc.png"):
            assert os.path.isfile(os.path.join(root, "eval", f))
    assert metrics["model"] == name

    channels = SPECS[name].input_channels
    # at the size metadata.json declares (512 x 512 crops, 224 x 224 classifier inputs)
    verify_net_in_out(net_id="network_def", meta_file=meta(name), config_file=cfg(name, "inference.json")[0],
                      device="cpu", n=1)  # fmt: skip
    ts = tmp_path / "model.ts"
    ckpt_export(net_id="network_def", filepath=str(ts), ckpt_file=os.path.join(root, "models", "model.pt"),
                meta_file=meta(name), config_file=cfg(name, "inference.json")[0], bundle_root=root,
                use_trace=True, input_shape=[1, channels, SIZE, SIZE], image_size=[SIZE, SIZE])  # fmt: skip
    net = torch.jit.load(str(ts)).eval()
    out = net(torch.rand(1, channels, SIZE, SIZE))
    assert out.shape == ((1, 1, SIZE, SIZE) if name in SEGMENTERS else (1, 2))


@pytest.mark.parametrize("name", SEGMENTERS)
def test_roi_inference_pastes_each_lesion_mask_back_onto_the_full_mammogram(name, data, tmp_path):
    root = trained(name, data)
    out = tmp_path / "masks"
    run(workflow(name, ["inference.json"], "infer", bundle_root=root, dataset_dir=data["root"], output_dir=str(out),
                 image_size=[SIZE, SIZE], margin=16))  # fmt: skip
    written = [os.path.join(d, n) for d, _, ns in os.walk(out) for n in ns if n.endswith(".png")]  # not skipped.json
    tests = [r for r in data["collection"].rows if r.split == "test" and r.abnormality_type == "mass"]
    tests = [r for r in tests if not r.mask_wrong_size]
    assert len(written) == len(tests)  # one per lesion, named after its ROI mask (several lesions per film)
    by_mask = {os.path.splitext(os.path.relpath(r.mask, data["root"]))[0]: r for r in tests}
    for path in written:
        rel = os.path.splitext(os.path.relpath(path, out))[0]
        row = by_mask[rel]
        hdr = read_header(row.full_image)
        with Image.open(path) as im:
            assert (im.height, im.width) == (hdr.rows, hdr.columns)  # the full film, not the crop


def test_roi_inference_from_a_datalist_and_without_a_mask(data, tmp_path):
    name = SEGMENTERS[0]
    root = trained(name, data)
    row = next(r for r in data["collection"].rows if r.abnormality_type == "mass" and not r.mask_wrong_size)
    datalist = tmp_path / "inputs.json"
    datalist.write_text(json.dumps([{"image": row.full_image, "mask": row.mask}, {"image": row.full_image}]))
    out = tmp_path / "masks"
    run(workflow(name, ["inference.json"], "infer", bundle_root=root, datalist=str(datalist), output_dir=str(out),
                 image_size=[SIZE, SIZE]))  # fmt: skip
    written = sorted(
        os.path.basename(os.path.join(d, n)) for d, _, ns in os.walk(out) for n in ns if n.endswith(".png")
    )
    assert written == sorted([os.path.splitext(os.path.basename(p))[0] + ".png" for p in (row.full_image, row.mask)])


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_inference_writes_a_csv_of_probabilities(name, data, tmp_path):
    root = trained(name, data)
    out = tmp_path / "pred"
    run(workflow(name, ["inference.json"], "infer", bundle_root=root, dataset_dir=data["root"], output_dir=str(out),
                 image_size=[SIZE, SIZE]))  # fmt: skip
    with open(out / "predictions.csv") as f:
        rows = list(csv.DictReader(f))
    tests = [r for r in data["collection"].rows if r.split == "test" and not r.mask_wrong_size]
    assert len(rows) == len(tests)
    for r in rows:
        p = float(r["prob_benign"]) + float(r["prob_malignant"])
        assert abs(p - 1.0) < 1e-4 and r["predicted_class"] in ("benign", "malignant")


def test_classifier_pretrained_reads_the_local_cache_or_names_the_missing_file(data, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    name = "resnet50_classification"
    wf = workflow(name, ["train.json"], "train", bundle_root=str(tmp_path), dataset_dir=data["root"],
                  use_imagenet_pretrain=True, **quick(name))  # fmt: skip
    wf.initialize()
    with pytest.raises(Exception) as e:
        wf.parser.get_parsed_content("network_def")
    expected = tmp_path / "torch" / "hub" / "checkpoints" / "resnet50.tv_in1k.safetensors"
    assert raised(e, FileNotFoundError, re.escape(str(expected)))


def test_wrong_dataset_dir_is_an_error_never_the_demo(data, tmp_path):
    name = CLASSIFIERS[0]
    wf = workflow(name, ["train.json"], "train", bundle_root=str(tmp_path), dataset_dir=str(tmp_path / "nope"),
                  **quick(name))  # fmt: skip
    wf.initialize()
    with pytest.raises(Exception) as e:
        wf.run()
    assert raised(e, FileNotFoundError, "does not exist or is not a folder")


def test_classifier_inference_from_a_datalist_with_a_box_or_a_whole_film(data, tmp_path):
    name = "mobilenetv2_classification"
    root = trained(name, data)
    row = next(r for r in data["collection"].rows if not r.mask_wrong_size)
    datalist = tmp_path / "inputs.json"
    items = [{"image": row.full_image, "mask": row.mask}, {"image": row.full_image, "box": [10, 10, 60, 80]},
             {"image": row.full_image}]  # fmt: skip
    datalist.write_text(json.dumps(items))
    out = tmp_path / "pred"
    run(workflow(name, ["inference.json"], "infer", bundle_root=root, datalist=str(datalist), output_dir=str(out),
                 image_size=[SIZE, SIZE]))  # fmt: skip
    with open(out / "predictions.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["image"] for r in rows] == [row.full_image] * 3
    assert len({r["prob_malignant"] for r in rows}) == 3  # three different inputs: crop by mask, by box, whole film


def test_classifier_trains_with_the_cosine_schedule_clipping_and_accuracy_as_key_metric(data, tmp_path):
    """The from-scratch CPU-demo recipe of VGG16 and ViT-B/16 (``--lr_schedule cosine --grad_clip 1.0 --key_metric
    val_accuracy``) wired through a bundle config."""
    from monai.engines.utils import IterationEvents

    name = "mobilenetv2_classification"
    settings = {**quick(name), "epochs": 2, "lr_schedule": "cosine", "grad_clip": 1.0, "key_metric": "val_accuracy"}
    wf = workflow(name, ["train.json"], "train", bundle_root=str(tmp_path / name), dataset_dir=data["root"],
                  cache_dir=data["cache"], **settings)  # fmt: skip
    run(wf)
    parsed = wf.parser.get_parsed_content
    steps = 2 * len(parsed("train#dataloader"))
    assert parsed("lr_scheduler").last_epoch == steps  # stepped once per iteration
    assert parsed("optimizer").param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)  # decayed to 0 at the end
    assert len(parsed("train#trainer")._event_handlers[IterationEvents.BACKWARD_COMPLETED]) == 1  # the clipping
    validator = parsed("validate#evaluator")
    assert validator.state.key_metric_name == "val_accuracy" and "val_auc" in validator.state.metrics

    for setting, message in [
        ({"lr_schedule": "step"}, r"Unsupported lr_schedule: 'step', available options are \['plateau', 'cosine'\]"),
        ({"key_metric": "val_dice"}, r"Unsupported key_metric: 'val_dice', available options are \['val_auc', 'val_"),
    ]:
        bad = workflow(name, ["train.json"], "train", bundle_root=str(tmp_path / "bad"), dataset_dir=data["root"],
                       cache_dir=data["cache"], **{**quick(name), **setting})  # fmt: skip
        with pytest.raises(Exception) as e:
            bad.initialize()
            bad.run()
        assert raised(e, ValueError, message), e.value
