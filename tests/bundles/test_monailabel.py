"""MONAI Label 0.8.5 loads bundles/unet_effb3 from a monaibundle app's model/ folder (no server: tasks directly).

monailabel is installed by the README's install line (--no-deps plus its light imports): no skip, CI runs this.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser
from monai.data import MetaTensor
from monailabel.tasks.infer.bundle import BundleInferTask
from monailabel.tasks.train.bundle import BundleTrainTask
from monailabel.utils.others.generic import get_bundle_models
from PIL import Image
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis, read_array, read_header
from monai_cbis.transforms import TrimBorder

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _constant_output(net: torch.nn.Module, bias) -> torch.nn.Module:
    """Make the network's last layer (the 1 x 1 conv or linear head) output ``bias`` whatever the input, so what
    MONAI Label returns is known exactly: a mask of ones where a segmenter looks, or fixed class probabilities."""
    last = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.as_tensor(bias, dtype=last.bias.dtype))
    return net


def _install(app_dir, name: str, bias) -> str:
    """Copy bundles/<name> into a monaibundle app's model/ folder, with weights whose output is ``bias``."""
    dst = app_dir / "model" / name
    shutil.copytree(os.path.join(REPO, "bundles", name), dst, ignore=shutil.ignore_patterns("models", "eval"))
    parser = ConfigParser()
    parser.read_config(str(dst / "configs" / "inference.json"))
    (dst / "models").mkdir()
    net = _constant_output(parser.get_parsed_content("network_def"), bias)
    torch.save(net.state_dict(), dst / "models" / "model.pt")
    return str(dst)


@pytest.fixture(scope="module")
def app(request, tmp_path_factory):
    """A monaibundle app folder holding the bundle, its weights set to segment everything it is shown."""
    tmp = scratch_dir(request, tmp_path_factory, "monailabel")
    bundle = _install(tmp / "app", "unet_effb3", [8.0])
    # the breast gate (default on; tests/transforms/test_breast_gate.py, test_unet_effb3.py) would cut this "all
    # lesion" mask down to the breast: off here, so the mask shows the geometry of the inversion alone
    inference = os.path.join(bundle, "configs", "inference.json")
    with open(inference) as f:
        config = json.load(f)
    config["gate_by_breast"] = False
    with open(inference, "w") as f:
        json.dump(config, f, indent=4)
    data = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=8, seed=4)
    return {"app": str(tmp / "app"), "bundle": bundle, "data": data, "tmp": tmp}


def test_bundle_is_found_offline(app):
    bundles = get_bundle_models(app["app"], {"models": "unet_effb3", "zoo_source": "local"})
    assert bundles == {"unet_effb3": app["bundle"]}


def _trimmed_film(rows: int, cols: int) -> np.ndarray:
    """``(rows, cols)``: 1 where the preset looks (inside the trimmed border), 0 on the border it trims away."""
    trim = TrimBorder(0.02)
    return trim.inverse(trim(MetaTensor(torch.ones(1, cols, rows))))[0].numpy().T


@pytest.mark.parametrize("kind", ["dicom", "png"])
def test_infer_task_segments_a_mammogram_into_a_mask_of_its_size(app, tmp_path, kind):
    """A network that calls every pixel lesion: the mask covers the film's lesion and all the film the preset keeps,
    at the film's size and orientation (an all-zero or misplaced mask fails)."""
    task = BundleInferTask(app["bundle"], conf={})
    assert task.is_valid() and task.labels == {"lesion": 1}
    row = next(r for r in app["data"].rows if not r.mask_wrong_size)
    if kind == "png":
        arr = read_array(row.full_image)
        path = str(tmp_path / "film.png")
        Image.fromarray((arr / arr.max() * 255).astype(np.uint8)).save(path)
    else:
        path = row.full_image
    rows, cols = read_header(path).shape
    result_file, _ = task({"image": path, "device": "cpu", "result_extension": ".png", "result_dtype": "uint8"})
    with Image.open(result_file) as im:
        mask = np.asarray(im)
    assert mask.shape == (rows, cols)
    np.testing.assert_array_equal(mask, _trimmed_film(rows, cols))
    assert mask[read_array(row.mask) > 127].all()  # the lesion is inside what the model segments


class _Datastore:
    """The one method BundleTrainTask calls."""

    def __init__(self, items):
        self.items = items

    def datalist(self):
        return self.items


@pytest.fixture(scope="module")
def trained_app(app):
    """The bundle after one epoch of MONAI Label's BundleTrainTask (its own copy: the other tests keep theirs)."""
    bundle = app["tmp"] / "trained" / "model" / "unet_effb3"
    shutil.copytree(app["bundle"], bundle)
    saved = torch.load(bundle / "models" / "model.pt", weights_only=True)
    rows = [r for r in app["data"].rows if not r.mask_wrong_size][:6]
    items = [{"image": r.full_image, "label": r.mask} for r in rows]
    before = os.path.getmtime(bundle / "models" / "model.pt")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MONAI_CBIS_CACHE", str(app["tmp"] / "cache"))
        BundleTrainTask(str(bundle), conf={})(
            {"model": "unet_effb3", "max_epochs": 1, "device": "cpu", "val_split": 0.5, "multi_gpu": False},
            _Datastore(items),
        )
    return {"bundle": str(bundle), "before": before, "installed": saved}


def test_train_task_runs_an_epoch(trained_app):
    model = os.path.join(trained_app["bundle"], "models", "model.pt")
    assert os.path.getmtime(model) > trained_app["before"]  # best model re-saved
    assert os.path.isfile(os.path.join(trained_app["bundle"], "eval", "training_curves.png"))


def test_infer_task_loads_every_weight_that_training_wrote(trained_app):
    """MONAI Label loads weights non-strictly (a key mismatch only warns and leaves those layers random): the
    network BundleInferTask runs must hold exactly the tensors of the model.pt that the bundle's training wrote."""
    written = torch.load(os.path.join(trained_app["bundle"], "models", "model.pt"), weights_only=True)
    task = BundleInferTask(trained_app["bundle"], conf={})
    loaded = task._get_network("cpu", None).state_dict()
    assert set(loaded) == set(written)
    different = [k for k in written if not torch.equal(loaded[k].cpu(), written[k].cpu())]
    assert not different, different[:5]
    # and the comparison can fail: training changed the weights, and a fresh network_def differs from them
    head = "segmentation_head.0.weight"
    assert not torch.equal(written[head], trained_app["installed"][head])
    assert not torch.equal(task.network.state_dict()[head].cpu(), written[head].cpu())


PAPER_B = [
    "unet_roi",
    "deeplabv3plus_r50",
    *[f"{a}_classification" for a in ("vgg16", "resnet50", "densenet121", "mobilenetv2", "vit_b16")],
]


@pytest.fixture(scope="module")
def paper_b_app(request, tmp_path_factory):
    tmp = scratch_dir(request, tmp_path_factory, "monailabel_b")
    data = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=8, seed=4)
    return {"app": tmp / "app", "data": data}


@pytest.mark.parametrize("name", PAPER_B)
def test_paper_b_bundles_infer_in_monai_label(paper_b_app, name):
    """Segmenters return a mask of the film's size (no ROI: the whole film); classifiers return the class. The
    weights make the output known: every pixel lesion, or probabilities 0.25 / 0.75 (logits 0 and ln 3)."""
    classifier = name.endswith("_classification")
    bundle = _install(paper_b_app["app"], name, [0.0, float(np.log(3.0))] if classifier else [8.0])
    assert get_bundle_models(str(paper_b_app["app"]), {"models": name, "zoo_source": "local"}) == {name: bundle}
    task = BundleInferTask(bundle, conf={})
    assert task.is_valid()
    path = paper_b_app["data"].rows[0].full_image
    result_file, result = task({"image": path, "device": "cpu", "result_extension": ".png", "result_dtype": "uint8"})
    if classifier:
        assert task.type == "classification" and result_file is None
        prediction = result["prediction"]
        assert [p["label"] for p in prediction] == ["benign", "malignant"]
        assert [p["score"] for p in prediction] == pytest.approx([0.25, 0.75], abs=1e-5)
    else:
        assert task.labels == {"lesion": 1}
        with Image.open(result_file) as im:
            mask = np.asarray(im)
        assert mask.shape == read_header(path).shape and mask.all()  # the whole film, all of it segmented
