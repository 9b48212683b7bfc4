"""monai_cbis.zoo.specs: every bundle's spec carries the published figure it reproduces."""

from __future__ import annotations

import dataclasses
import json

import pytest

from monai_cbis.zoo import SPECS, render_bundle
from monai_cbis.zoo.specs import PUBLISHED_KEYS


@pytest.mark.parametrize("name", list(SPECS))
def test_published_has_the_contracts_shape(name):
    ref = SPECS[name].published
    assert tuple(ref) == PUBLISHED_KEYS
    assert ref["paper"] in ("A", "B", "literature")  # the detector's anchors come from other papers
    assert all(isinstance(ref[k], str) and ref[k] for k in ("metric", "setting", "note"))
    for key in ("figures", "figures_from_scratch"):
        assert all(isinstance(v, float) and 0 < v < 1 for v in ref[key].values())
    assert ref["figures"]


@pytest.mark.parametrize(
    "name, figures, from_scratch",
    [
        ("unet_effb3", {"mean_dice_incl_background": 0.968, "mean_iou_incl_background": 0.956}, {}),
        ("unet_roi", {"lesion_dice": 0.8402, "lesion_iou": 0.7246}, {}),
        ("deeplabv3plus_r50", {"lesion_dice": 0.8294, "lesion_iou": 0.7087}, {}),
        ("vgg16_classification", {"accuracy": 0.7739}, {"accuracy": 0.7156}),
        ("resnet50_classification", {"accuracy": 0.7646}, {"accuracy": 0.6154}),
        ("densenet121_classification", {"accuracy": 0.7692}, {"accuracy": 0.6131}),
        ("mobilenetv2_classification", {"accuracy": 0.6294}, {"accuracy": 0.5105}),
        ("vit_b16_classification", {"accuracy": 0.7273}, {}),
    ],
)
def test_published_figures(name, figures, from_scratch):
    ref = SPECS[name].published
    assert ref["figures"] == figures and ref["figures_from_scratch"] == from_scratch
    assert ref["paper"] == ("A" if name == "unet_effb3" else "B")


@pytest.mark.parametrize("name", ["unet_effb3", "vit_b16_classification"])
def test_evaluate_and_metadata_carry_the_published_figure(name):
    files = render_bundle(SPECS[name])
    report = json.loads(files["configs/evaluate.json"])["validate#handlers"][-1]
    assert report["paper_reference"] == SPECS[name].published
    assert json.loads(files["configs/metadata.json"])["published_reference"] == SPECS[name].published


def test_without_published_no_reference_is_written():
    files = render_bundle(dataclasses.replace(SPECS["unet_roi"], published=None))
    assert "paper_reference" not in json.loads(files["configs/evaluate.json"])["validate#handlers"][-1]
    assert "published_reference" not in json.loads(files["configs/metadata.json"])


def test_published_with_other_keys_is_an_error():
    with pytest.raises(ValueError, match="expected \\['paper', 'metric'"):
        dataclasses.replace(SPECS["unet_roi"], published={"paper": "B", "figures": {"lesion_dice": 0.84}})


def test_network_def_adds_pretrained_only_where_it_can_load_weights():
    assert SPECS["unet_effb3"].network_def(False)["pretrained"] is False
    assert "pretrained" not in SPECS["unet_roi"].network_def(False)
