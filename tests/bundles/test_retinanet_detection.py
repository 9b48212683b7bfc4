"""The retinanet_detection bundle on a tiny synthetic collection: train (one epoch), evaluate (lesion-level report),
inference on a folder (boxes in the original film's pixels, an overlay, a non-image file listed), the box geometry of
the inference post-processing against boxes read from the full-size masks, and bad input (wrong dataset_dir, a film
whose mask is empty)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from bundle_workflow import config_workflow, raised, run
from monai.bundle import ConfigParser
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis
from monai_cbis.data.items import section_items
from monai_cbis.data.skips import SkippedItems
from monai_cbis.transforms import CBISImageReader, box_items, get_preset
from monai_cbis.transforms.boxes import foreground_bbox

NAME = "retinanet_detection"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUICK = {"long_side": 96, "batch_size": 4, "epochs": 1, "val_frac": 0.4, "anchor_sizes": [[8, 8], [16, 16], [32, 32]]}


def cfg(*files: str) -> list[str]:
    return [os.path.join(REPO, "bundles", NAME, "configs", f) for f in files]


def workflow(files, workflow_type: str, **overrides):
    return config_workflow(cfg(*files), cfg("metadata.json")[0], workflow_type, **overrides)


@pytest.fixture(scope="module")
def data(request, tmp_path_factory):
    tmp = scratch_dir(request, tmp_path_factory, "detection")
    collection = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=8, seed=5)
    return {"tmp": tmp, "root": collection.root, "cache": str(tmp / "cache")}


@pytest.fixture(scope="module")
def trained(data):
    root = str(data["tmp"] / "run")
    run(workflow(["train.json"], "train", bundle_root=root, dataset_dir=data["root"], cache_dir=data["cache"], **QUICK))
    return root


def test_train_writes_the_model_and_the_skip_list(trained):
    assert os.path.isfile(os.path.join(trained, "models", "model.pt"))
    with open(os.path.join(trained, "eval", "skipped_training.json")) as f:
        skipped = json.load(f)
    entries = skipped["skipped"] if isinstance(skipped, dict) else skipped
    assert all(e.get("reason") for e in entries)


def test_evaluate_writes_the_lesion_level_report(trained, data):
    run(workflow(["train.json", "evaluate.json"], "eval", bundle_root=trained, dataset_dir=data["root"],
                 cache_dir=data["cache"], **QUICK))  # fmt: skip
    with open(os.path.join(trained, "eval", "metrics.json")) as f:
        metrics = json.load(f)
    for key in ("froc_mean_sensitivity", "sensitivity_at_1fp", "map_at_iou_0.1"):
        assert key in metrics
    assert 0.0 <= metrics["sensitivity_at_1fp"] <= 1.0
    assert os.path.isfile(os.path.join(trained, "eval", "froc.png"))


def test_inference_on_a_folder_writes_boxes_in_the_films_pixels_and_lists_other_files(trained, data, tmp_path):
    films = tmp_path / "films"
    films.mkdir()
    item = section_items(data["root"], "test", task="both", level="image")[0]
    shutil.copy(item["image"], films / "film.dcm")
    (films / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    wf = workflow(["inference.json"], "infer", bundle_root=trained, dataset_dir=str(films), output_dir=str(out),
                  long_side=QUICK["long_side"], anchor_sizes=QUICK["anchor_sizes"])  # fmt: skip
    run(wf)
    with open(out / "film.json") as f:
        result = json.load(f)
    cols, rows = CBISImageReader().read(str(films / "film.dcm")).pixels.shape[::-1]
    for b in result["boxes"]:
        x0, y0, x1, y1 = b["box"]
        assert -1 <= x0 < x1 <= cols + 1 and -1 <= y0 < y1 <= rows + 1  # the film's pixels, not the working image's
        assert b["label_name"] in ("mass", "calcification") and 0 <= b["score"] <= 1
    assert (out / "film.png").is_file()
    with open(out / "skipped.json") as f:
        assert "notes.txt" in f.read()


def test_inference_postprocessing_maps_working_boxes_back_onto_the_masks(data):
    """The boxes of the working image (from the training preset) go through inference.json's post-processing and
    come back as the boxes of the full-size masks."""
    parser = ConfigParser()
    parser.read_config(cfg("inference.json")[0])
    parser["long_side"] = 128
    post = parser.get_parsed_content("postprocessing")
    preset = get_preset("detection", long_side=128)
    for item in section_items(data["root"], "training", task="both", level="image")[:4]:
        d = preset.inference()(dict(item))
        pred = {"box": d["box"], "label": d["label"], "label_scores": np.ones(len(d["box"]), np.float32)}
        out = post({"image": d["image"], "pred": pred, "label": None})
        expected = []
        for mask in item["label"]:
            m = CBISImageReader().read(mask).pixels.T  # (W, H): x = column
            s0, e0, s1, e1 = foreground_bbox(m, 127.5)
            expected.append([s0, s1, e0, e1])
        got = sorted(np.round(np.asarray(out["box"]), 2).tolist())
        assert np.allclose(got, sorted(expected), atol=0.05), (item["image"], got, expected)


def test_a_film_whose_mask_is_empty_is_skipped_and_counted(data, tmp_path):
    items = section_items(data["root"], "training", task="both", level="image")[:2]
    reader = CBISImageReader()
    empty = tmp_path / "empty.png"
    import cv2

    rows, cols = reader.read(items[0]["label"][0]).pixels.shape
    cv2.imwrite(str(empty), np.zeros((rows, cols), np.uint8))
    bad = {**items[0], "label": [str(empty)] * len(items[0]["label"])}
    ledger = SkippedItems()
    kept = box_items([bad, items[1]], get_preset("detection", long_side=64), None, ledger)
    assert [k["image"] for k in kept] == [items[1]["image"]]
    assert ledger.counts() == {"no_lesion_box": 1} and ledger.entries[0]["stage"] == "boxes"
    with pytest.raises(ValueError, match="None of the 1 images has a lesion box"):
        box_items([bad], get_preset("detection", long_side=64), None, None)


def test_wrong_dataset_dir_is_an_error_never_the_demo(tmp_path):
    wf = workflow(["train.json"], "train", bundle_root=str(tmp_path), dataset_dir=str(tmp_path / "nope"), **QUICK)
    wf.initialize()
    with pytest.raises(Exception) as e:
        wf.run()
    assert raised(e, FileNotFoundError, "does not exist or is not a folder")
