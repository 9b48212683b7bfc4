"""MONAI Label 0.8.5 serves bundles/retinanet_detection from an app laid out by ``monai_cbis label-app``: the
bundle's name makes it a detection task, which runs the bundle's ``detector`` and returns the boxes in the
original film's pixels (no server: the task is called directly, as tests/bundles/test_monailabel.py does)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import torch
from monai.bundle import ConfigParser
from monailabel.tasks.infer.bundle import BundleInferTask
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis, read_header
from monai_cbis.label_app import lay_out_app

NAME = "retinanet_detection"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LONG_SIDE = 128  # the working image's long side (the bundle's default, 1024, is for a GPU)


def _certain_everywhere(net: torch.nn.Module) -> torch.nn.Module:
    """Every anchor scores sigmoid(4) ~ 0.98 for both classes and keeps its own box (zero regression): the
    detector's boxes are then anchors of the working image, so where they land on the film is known."""
    with torch.no_grad():
        for conv, bias in ((net.classification_head.cls_logits, 4.0), (net.regression_head.bbox_reg, 0.0)):
            conv.weight.zero_()
            conv.bias.fill_(bias)
    return net


@pytest.fixture(scope="module")
def app(request, tmp_path_factory):
    tmp = scratch_dir(request, tmp_path_factory, "monailabel_detection")
    bundle = tmp / "bundles" / NAME
    shutil.copytree(os.path.join(REPO, "bundles", NAME), bundle, ignore=shutil.ignore_patterns("models", "eval"))
    config_file = bundle / "configs" / "inference.json"
    with open(config_file) as f:
        config = json.load(f)
    config["long_side"] = LONG_SIDE
    config_file.write_text(json.dumps(config, indent=4))
    parser = ConfigParser()
    parser.read_config(str(config_file))
    (bundle / "models").mkdir()
    net = _certain_everywhere(parser.get_parsed_content("network_def"))
    torch.save(net.state_dict(), bundle / "models" / "model.pt")
    laid_out = lay_out_app(tmp / "app", [NAME], bundles_dir=tmp / "bundles")
    data = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=8, seed=3)
    return {"app": laid_out, "data": data}


def test_the_app_serves_the_detector_as_a_detection_task(app):
    assert app["app"].bundles == (NAME,) and app["app"].untrained == ()
    task = BundleInferTask(os.path.join(app["app"].path, "model", NAME), conf={})
    assert task.is_valid() and task.type == "detection"
    assert task.labels == {"mass": 0, "calcification": 1}


def test_infer_task_returns_boxes_in_the_films_pixels(app):
    task = BundleInferTask(os.path.join(app["app"].path, "model", NAME), conf={})
    film = app["data"].rows[0].full_image
    rows, cols = read_header(film).shape
    _, result = task({"image": film, "device": "cpu", "result_write_to_file": True, "output": "json"})
    boxes, labels = result["box"], result["label"]
    assert 0 < len(boxes) == len(labels) <= 100  # detections_per_img
    assert set(labels) <= {0, 1}
    for x0, y0, x1, y1 in boxes:
        assert -1 <= x0 < x1 <= cols + 1 and -1 <= y0 < y1 <= rows + 1, (x0, y0, x1, y1, cols, rows)
    # the film is several times the working image: boxes of the working image (at most LONG_SIDE) were mapped back
    assert max(max(b[2] for b in boxes), max(b[3] for b in boxes)) > 1.5 * LONG_SIDE
