"""MONAI Label 0.8.5 loads bundles/unet_effb3 from a monaibundle app's model/ folder (no server: tasks directly).

monailabel is installed by the README's install line (--no-deps plus its light imports): no skip, CI runs this.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser
from monailabel.tasks.infer.bundle import BundleInferTask
from monailabel.tasks.train.bundle import BundleTrainTask
from monailabel.utils.others.generic import get_bundle_models
from PIL import Image

from monai_cbis.data import make_synthetic_cbis, read_array, read_header

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _install(app_dir, name: str) -> str:
    """Copy bundles/<name> into a monaibundle app's model/ folder, with weights saved from its own network_def."""
    dst = app_dir / "model" / name
    shutil.copytree(os.path.join(REPO, "bundles", name), dst, ignore=shutil.ignore_patterns("models", "eval"))
    parser = ConfigParser()
    parser.read_config(str(dst / "configs" / "inference.json"))
    (dst / "models").mkdir()
    torch.save(parser.get_parsed_content("network_def").state_dict(), dst / "models" / "model.pt")
    return str(dst)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A monaibundle app folder holding the bundle with weights saved from its own network_def."""
    tmp = tmp_path_factory.mktemp("monailabel")
    bundle = _install(tmp / "app", "unet_effb3")
    data = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=8, seed=4)
    return {"app": str(tmp / "app"), "bundle": bundle, "data": data}


def test_bundle_is_found_offline_and_weights_match_network_def_keys(app):
    bundles = get_bundle_models(app["app"], {"models": "unet_effb3", "zoo_source": "local"})
    assert bundles == {"unet_effb3": app["bundle"]}
    # MONAI Label loads weights non-strictly (mismatches only warn): check the keys ourselves
    parser = ConfigParser()
    parser.read_config(os.path.join(app["bundle"], "configs", "inference.json"))
    net = parser.get_parsed_content("network_def")
    missing, unexpected = net.load_state_dict(torch.load(os.path.join(app["bundle"], "models", "model.pt")), False)
    assert not missing and not unexpected


@pytest.mark.parametrize("kind", ["dicom", "png"])
def test_infer_task_segments_a_mammogram_into_a_mask_of_its_size(app, tmp_path, kind):
    task = BundleInferTask(app["bundle"], conf={})
    assert task.is_valid() and task.labels == {"lesion": 1}
    source = app["data"].rows[0].full_image
    if kind == "png":
        arr = read_array(source)
        path = str(tmp_path / "film.png")
        Image.fromarray((arr / arr.max() * 255).astype(np.uint8)).save(path)
    else:
        path = source
    rows, cols = read_header(path).shape
    result_file, _ = task({"image": path, "device": "cpu", "result_extension": ".png", "result_dtype": "uint8"})
    with Image.open(result_file) as im:
        assert (im.height, im.width) == (rows, cols)
        assert set(np.unique(np.asarray(im))) <= {0, 1}


class _Datastore:
    """The one method BundleTrainTask calls."""

    def __init__(self, items):
        self.items = items

    def datalist(self):
        return self.items


def test_train_task_runs_an_epoch(app, monkeypatch, tmp_path):
    monkeypatch.setenv("MONAI_CBIS_CACHE", str(tmp_path / "cache"))
    rows = [r for r in app["data"].rows if not r.mask_wrong_size][:6]
    items = [{"image": r.full_image, "label": r.mask} for r in rows]
    task = BundleTrainTask(app["bundle"], conf={})
    before = os.path.getmtime(os.path.join(app["bundle"], "models", "model.pt"))
    task(
        {"model": "unet_effb3", "max_epochs": 1, "device": "cpu", "val_split": 0.5, "multi_gpu": False},
        _Datastore(items),
    )
    assert os.path.getmtime(os.path.join(app["bundle"], "models", "model.pt")) > before  # best model re-saved
    assert os.path.isfile(os.path.join(app["bundle"], "eval", "training_curves.png"))


PAPER_B = [
    "unet_roi",
    "deeplabv3plus_r50",
    *[f"{a}_classification" for a in ("vgg16", "resnet50", "densenet121", "mobilenetv2", "vit_b16")],
]


@pytest.fixture(scope="module")
def paper_b_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("monailabel_b")
    data = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=8, seed=4)
    return {"app": tmp / "app", "data": data}


@pytest.mark.parametrize("name", PAPER_B)
def test_paper_b_bundles_infer_in_monai_label(paper_b_app, name):
    """Segmenters return a mask of the film's size (no ROI: the whole film); classifiers return the class."""
    bundle = _install(paper_b_app["app"], name)
    assert get_bundle_models(str(paper_b_app["app"]), {"models": name, "zoo_source": "local"}) == {name: bundle}
    task = BundleInferTask(bundle, conf={})
    assert task.is_valid()
    path = paper_b_app["data"].rows[0].full_image
    result_file, result = task({"image": path, "device": "cpu", "result_extension": ".png", "result_dtype": "uint8"})
    if name.endswith("_classification"):
        assert task.type == "classification" and result_file is None
        prediction = result["prediction"]
        assert [p["label"] for p in prediction] == ["benign", "malignant"]
        assert abs(sum(p["score"] for p in prediction) - 1.0) < 1e-4
    else:
        assert task.labels == {"lesion": 1}
        with Image.open(result_file) as im:
            assert (im.height, im.width) == read_header(path).shape
            assert set(np.unique(np.asarray(im))) <= {0, 1}
