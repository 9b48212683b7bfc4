"""monai_cbis.zoo.films: evaluate_films.json, only for crop-trained segmenters, wired from their family and level."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json

from monai_cbis.zoo import FAMILIES, LEVELS, SPECS, films, get_family, get_level, render_bundle
from monai_cbis.zoo.films import evaluate_films_config


def test_written_for_the_crop_segmenters_only():
    have = {name for name, spec in SPECS.items() if "configs/evaluate_films.json" in render_bundle(spec)}
    assert have == {"unet_roi", "deeplabv3plus_r50"}
    assert evaluate_films_config(SPECS["unet_highres"]) is None  # whole films already
    assert evaluate_films_config(SPECS["vgg16_classification"]) is None  # a crop classifier: no film inferer


def test_a_family_without_a_film_inferer_gets_none():
    family = dataclasses.replace(get_family("segmentation"), film_inferer=None)
    FAMILIES["no_films"] = family
    try:
        assert evaluate_films_config(dataclasses.replace(SPECS["unet_roi"], family="no_films")) is None
    finally:
        del FAMILIES["no_films"]


def test_whole_film_items_window_gate_and_report_come_from_family_and_levels():
    spec = SPECS["deeplabv3plus_r50"]
    cfg = json.loads(render_bundle(spec)["configs/evaluate_films.json"])
    family, films_level = get_family(spec.family), get_level(get_level(spec.level).films)
    items = cfg["validate#section_items"]
    assert (items["level"], items["section"], items["keys"]) == ("image", "test", ["image", "label", "laterality"])
    assert cfg["validate#inferer"] == {**family.film_inferer} and cfg["validate#inferer"]["roi_size"] == "@image_size"
    assert cfg["validate#dataloader#batch_size"] == 1 and cfg["film_downsample"] == "auto"
    assert cfg["film_preset"]["downsample"] == "$@film_scale['downsample']"
    assert cfg["film_preset"]["out_channels"] == spec.input_channels == 3
    assert cfg["film_scale_items"]["section"] == "training" and "skipped" not in cfg["film_scale_items"]
    targets = [t["_target_"] for t in cfg["validate#postprocessing"]["transforms"]]
    assert targets[:4] == ["Activationsd", "CopyItemsd", "AsDiscreted", "monai_cbis.transforms.GateByBreastd"]
    assert "monai_cbis.transforms.FilmMasksd" in targets and cfg["eval_geometry"] == "working"
    report = cfg["validate#handlers"][-1]
    assert report["model_name"] == "deeplabv3plus_r50 (whole films)" and "paper_reference" not in report
    assert report["lesion_match_by"] == films_level.lesion_match_by == "image"
    assert report["extra_fields"] == {"film_scale": "@film_scale"} and report["geometry"] == "@eval_geometry"
    assert cfg["output_dir"] == "$@bundle_root + '/eval_films'"


def test_the_template_does_not_branch_on_family_or_level_names():
    names = set(FAMILIES) | set(LEVELS)
    tree = ast.parse(inspect.getsource(films))
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            consts = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant)}
            assert not consts & names, f"line {node.lineno} compares with {consts & names}"


def test_whole_films_get_the_contrast_enhancement_the_network_was_trained_with():
    from monai.bundle import ConfigParser

    configs = {k: json.loads(v) for k, v in render_bundle(SPECS["unet_roi"]).items() if k.endswith(".json")}
    parser = ConfigParser({**configs["configs/train.json"], **configs["configs/evaluate_films.json"]})
    parser["film_scale"] = {"downsample": 2}  # the scale itself is tested in tests/transforms/test_crop_scale.py
    default = parser.get_parsed_content("film_preset", instantiate=True).params
    trained = parser.get_parsed_content("preset", instantiate=True).params
    assert (default["clip_limit"], default["tile_grid_size"]) == (trained["clip_limit"], trained["tile_grid_size"])
    parser["preset#clip_limit"], parser["preset#tile_grid_size"] = 3.5, 16  # a run trained with other settings
    parser.parse(reset=True)
    film = parser.get_parsed_content("film_preset", instantiate=True).params
    assert (film["clip_limit"], film["tile_grid_size"], film["downsample"]) == (3.5, 16, 2)
