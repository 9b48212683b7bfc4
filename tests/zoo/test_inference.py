"""monai_cbis.zoo.inference: evaluate.json and inference.json; one way for every config to get its pipeline."""

from __future__ import annotations

import json

import pytest
from monai.bundle import ConfigParser

from monai_cbis.transforms import get_preset
from monai_cbis.zoo import SPECS, render_bundle


@pytest.mark.parametrize("name", list(SPECS))
def test_inference_builds_its_pipeline_as_training_does(name):
    spec = SPECS[name]
    files = render_bundle(spec)
    assert "preset_compose" not in "".join(files.values())
    train, infer = json.loads(files["configs/train.json"]), json.loads(files["configs/inference.json"])
    switches = ("augment_backend", "augment_device")  # training's augmentation only: inference has none
    train_preset = {k: v for k, v in train["preset"].items() if k not in switches}
    assert infer["preset"] == {**train_preset, **spec.inference_preset_args}
    assert infer["preprocessing"] == "$@preset.inference()" == train["validate"]["preprocessing"]


@pytest.mark.parametrize("name", ["unet_effb3", "unet_roi", "vgg16_classification"])
def test_inference_preprocessing_parses_to_the_presets_inference_part(name):
    spec = SPECS[name]
    parser = ConfigParser(json.loads(render_bundle(spec)["configs/inference.json"]))
    parsed = parser.get_parsed_content("preprocessing")
    args = {
        k: parser.get_parsed_content(v[1:]) if isinstance(v, str) and v.startswith("@") else v
        for k, v in {**spec.preset_args, **spec.inference_preset_args}.items()
    }
    expected = get_preset(spec.preset, **args).inference()
    assert [type(t) for t in parsed.transforms] == [type(t) for t in expected.transforms]
    assert parser.get_parsed_content("preprocessing") is parsed  # Invertd inverts the very pipeline that ran


@pytest.mark.parametrize(
    "name, target", [("unet_roi", "SegmentationReportHandler"), ("vgg16_classification", "ClassificationReportHandler")]
)
def test_evaluate_reads_the_test_section_and_reports_with_the_model_name(name, target):
    cfg = json.loads(render_bundle(SPECS[name])["configs/evaluate.json"])
    assert cfg["validate#section_items#section"] == "test"
    report = cfg["validate#handlers"][-1]
    assert report["_target_"] == f"monai_cbis.evaluation.{target}" and report["model_name"] == name
