"""bundles/unet_highres (issue 14) in the style of model-zoo's CI: train on patches, evaluate and infer on whole films
with a sliding window, on generated data; resume, DICOM SEG, verify_net_in_out."""

from __future__ import annotations

import csv
import json
import os

import highdicom as hd
import numpy as np
import pydicom
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
from monai.bundle import ConfigWorkflow, verify_net_in_out
from PIL import Image
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis, read_header

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUNDLE = os.path.join(REPO, "bundles", "unet_highres")
#: Films of about 600 x 400 halved, 64 x 64 patches, two a film: a CPU-sized run.
QUICK = {"downsample": 2, "patch_size": [64, 64], "num_samples": 2, "batch_size": 2, "num_workers": 0}
QUICK.update({"val_frac": 0.3, "sw_batch_size": 8})


def cfg(*names: str) -> list[str]:
    return [os.path.join(BUNDLE, "configs", n) for n in names]


def workflow(config_files, workflow_type, **overrides) -> ConfigWorkflow:
    return config_workflow(config_files, os.path.join(BUNDLE, "configs", "metadata.json"), workflow_type, **overrides)


@pytest.fixture(scope="module")
def env(request, tmp_path_factory):
    tmp = scratch_dir(request, tmp_path_factory, "unet_highres")
    data = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=10, seed=0)
    return {"tmp": tmp, "data": data.root, "cache_dir": str(tmp / "cache")}


@pytest.fixture(scope="module")
def trained(env):
    root = str(env["tmp"] / "bundle")
    wf = workflow(cfg("train.json"), "train", bundle_root=root, dataset_dir=env["data"], cache_dir=env["cache_dir"],
                  epochs=1, **QUICK)  # fmt: skip
    run(wf)
    return root


def test_configs_train_on_patches_and_validate_with_a_sliding_window():
    train = json.load(open(cfg("train.json")[0]))  # noqa: SIM115
    assert train["train"]["inferer"]["_target_"] == "SimpleInferer"
    window = train["validate"]["inferer"]
    assert window["_target_"] == "SlidingWindowInferer" and window["roi_size"] == "@patch_size"
    assert (train["downsample"], train["patch_size"], train["sw_mode"]) == (4, [512, 512], "gaussian")
    assert train["validate"]["dataloader"]["batch_size"] == 1  # whole films keep their own sizes
    infer = json.load(open(cfg("inference.json")[0]))  # noqa: SIM115
    assert infer["inferer"] == window and infer["preset"]["label_key"] is None
    meta = json.load(open(cfg("metadata.json")[0]))  # noqa: SIM115
    assert meta["network_data_format"]["inputs"]["image"]["is_patch_data"] is True


def test_train_resume_and_evaluate_on_whole_films(env, trained):
    models = os.listdir(os.path.join(trained, "models"))
    assert "model.pt" in models and "checkpoint_epoch=1.pt" in models
    wf = workflow(cfg("train.json"), "train", bundle_root=trained, dataset_dir=env["data"],
                  cache_dir=env["cache_dir"], epochs=2, resume=True, **QUICK)  # fmt: skip
    run(wf)
    with open(os.path.join(trained, "eval", "history.csv")) as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2]  # epoch 1 restored, not trained again

    run(workflow(cfg("train.json", "evaluate.json"), "eval", bundle_root=trained, dataset_dir=env["data"],
                 cache_dir=env["cache_dir"], **QUICK))  # fmt: skip
    out = os.path.join(trained, "eval")
    metrics, rows = checked_segmentation_report(out)
    manifest = json.load(open(os.path.join(env["data"], "synthetic_manifest.json")))  # noqa: SIM115
    truth: dict[str, list[dict]] = {}
    for r in manifest["rows"]:
        if r["split"] == "test" and r["abnormality_type"] == "mass" and not r["mask_wrong_size"]:
            truth.setdefault(r["full_image"], []).append(r)
    assert sorted(os.path.realpath(r["image"]) for r in rows) == sorted(os.path.realpath(f) for f in truth)
    # scored on the whole working film (the breast crop halved), never on one 64 x 64 window
    sizes = {int(r["total_pixels"]) for r in rows}
    assert min(sizes) > 64 * 64 and len(sizes) > 1
    assert all(int(r["label_lesion_pixels"]) > 0 for r in rows)
    assert metrics["breast_gate"]["images"] == len(rows)
    lesion_level, lesions = checked_lesion_report(out, truth)
    # one ground-truth lesion per CSV row, from the preset's lesion index map (as unet_effb3): never "mixed"
    assert lesion_level["lesions_from"].startswith("one per mask of the item")
    assert "mixed" not in {r[f] for r in lesions for f in ("abnormality_type", "pathology", "abnormality_id")}


def test_evaluate_at_the_original_film_geometry(env, trained, tmp_path):
    """``eval_geometry original``: the sliding window's prediction back on the film (breast crop and halving undone),
    scored against the film's own masks, as unet_effb3's (the comparison of issue 14)."""
    run(workflow(cfg("train.json", "evaluate.json"), "eval", bundle_root=trained, dataset_dir=env["data"],
                 cache_dir=env["cache_dir"], output_dir=str(tmp_path), eval_geometry="original", **QUICK))  # fmt: skip
    manifest = json.load(open(os.path.join(env["data"], "synthetic_manifest.json")))  # noqa: SIM115
    truth: dict[str, list[dict]] = {}
    for r in manifest["rows"]:
        if r["split"] == "test" and r["abnormality_type"] == "mass" and not r["mask_wrong_size"]:
            truth.setdefault(r["full_image"], []).append(r)
    checked_original_geometry_report(str(tmp_path), truth)


def test_inference_png_and_dicom_seg_at_the_original_geometry(env, trained, tmp_path):
    manifest = json.load(open(os.path.join(env["data"], "synthetic_manifest.json")))  # noqa: SIM115
    source = next(r["full_image"] for r in manifest["rows"] if r["split"] == "test")
    films = tmp_path / "films" / "case"
    films.mkdir(parents=True)
    os.symlink(source, films / "1-1.dcm")
    hdr = read_header(source)
    for fmt, ext in (("png", ".png"), ("dicom_seg", ".dcm")):
        out = tmp_path / fmt
        run(workflow(cfg("inference.json"), "infer", bundle_root=trained, dataset_dir=str(films.parent),
                     output_dir=str(out), output_format=fmt, **QUICK))  # fmt: skip
        written = [os.path.join(d, n) for d, _, ns in os.walk(out) for n in ns if n.endswith(ext)]
        assert len(written) == 1, written
        if fmt == "png":
            with Image.open(written[0]) as im:
                assert (im.height, im.width) == (hdr.rows, hdr.columns)
                png = np.asarray(im) > 0
                assert set(np.unique(np.asarray(im))) <= {0, 255}
        else:
            film = pydicom.dcmread(source, stop_before_pixels=True)
            seg = pydicom.dcmread(written[0])
            ref = seg.ReferencedSeriesSequence[0]
            assert ref.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == film.SOPInstanceUID
            assert (seg.Rows, seg.Columns) == (film.Rows, film.Columns)
            assert seg.SegmentSequence[0].SegmentAlgorithmName == "unet_highres"
            frame = hd.seg.segread(written[0]).get_pixels_by_source_instance(
                source_sop_instance_uids=[film.SOPInstanceUID], segment_numbers=[1]
            )[0, :, :, 0]
            np.testing.assert_array_equal(frame.astype(bool), png)  # the PNG's mask, pixel for pixel


def _one_film(source: str, folder) -> str:
    films = folder / "case"
    films.mkdir(parents=True)
    os.symlink(source, films / "1-1.dcm")
    return str(folder)


@pytest.mark.parametrize("tagged", [True, False])
def test_inference_at_a_target_pixel_size(env, trained, tmp_path, tagged):
    """``--target_spacing_mm``: a film tagged with PixelSpacing (0.375 mm, realistic lesions) is segmented on a
    0.75 mm grid and the mask lands on its own pixels; an untagged film is an error naming it, unless
    ``--fallback_spacing_mm`` gives its pixel size."""
    if tagged:
        coll = make_synthetic_cbis(tmp_path / "cbis", layout="classic", cases=8, seed=0, realistic_lesions=True)
        source = next(r.full_image for r in coll.rows if r.split == "test")
    else:
        manifest = json.load(open(os.path.join(env["data"], "synthetic_manifest.json")))  # noqa: SIM115
        source = next(r["full_image"] for r in manifest["rows"] if r["split"] == "test")
    root = _one_film(source, tmp_path / "films")
    settings = {**QUICK, "target_spacing_mm": 0.75}
    if not tagged:
        with pytest.raises(Exception) as err:
            run(workflow(cfg("inference.json"), "infer", bundle_root=trained, dataset_dir=root,
                         output_dir=str(tmp_path / "error"), **settings))  # fmt: skip
        assert raised(err, ValueError, r"1-1\.dcm: no usable pixel spacing .*fallback_spacing_mm")
        settings["fallback_spacing_mm"] = 0.375
    out = tmp_path / "out"
    run(workflow(cfg("inference.json"), "infer", bundle_root=trained, dataset_dir=root, output_dir=str(out),
                 **settings))  # fmt: skip
    written = [os.path.join(d, n) for d, _, ns in os.walk(out) for n in ns if n.endswith(".png")]
    hdr = read_header(source)
    assert len(written) == 1
    with Image.open(written[0]) as im:
        assert (im.height, im.width) == (hdr.rows, hdr.columns)


def test_net_in_out(trained):
    verify_net_in_out(net_id="network_def", meta_file=cfg("metadata.json")[0], config_file=cfg("inference.json")[0],
                      device="cpu", n=4)  # fmt: skip
    state = torch.load(os.path.join(trained, "models", "model.pt"), weights_only=True)
    assert any(k.startswith("encoder.") for k in state)
