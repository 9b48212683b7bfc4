"""monai_cbis.zoo.families: one object per bundle family; the templates read it instead of branching on names."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json

import pytest

from monai_cbis.zoo import (
    FAMILIES,
    LEVELS,
    SPECS,
    BundleFamily,
    augment_switch,
    get_family,
    inference,
    metadata,
    render_bundle,
    training,
)


def _configs(spec) -> dict:
    return {k: json.loads(v) for k, v in render_bundle(spec).items() if k.endswith(".json")}


def test_families_are_registered_by_name_and_every_spec_has_one():
    assert list(FAMILIES) == ["segmentation", "classification", "detection", "patch_segmentation"]
    assert all(f.name == name for name, f in FAMILIES.items())
    assert {s.family for s in SPECS.values()} == set(FAMILIES)


def test_unknown_family_is_a_clear_error_listing_the_options():
    with pytest.raises(ValueError, match=r"'keypoints', available options are \['segmentation', 'class"):
        get_family("keypoints")
    with pytest.raises(ValueError, match="available options"):
        dataclasses.replace(SPECS["unet_roi"], family="keypoints")


@pytest.mark.parametrize(
    "name, key, names",
    [
        ("segmentation", "val_mean_dice", ["val_mean_dice", "val_mean_iou"]),
        ("classification", "val_auc", ["val_auc", "val_accuracy"]),
        ("detection", "val_map_0.1", ["val_map_0.1", "val_map_0.5"]),
    ],
)
def test_key_metric_is_the_first_metric(name, key, names):
    family = get_family(name)
    assert family.key_metric == key and family.metric_names == names


def test_a_family_needs_a_metric():
    with pytest.raises(ValueError, match="at least one validation metric"):
        dataclasses.replace(get_family("segmentation"), name="empty", metrics={})


def test_a_segmentation_spec_without_a_loss_is_a_clear_error():
    spec = dataclasses.replace(SPECS["unet_roi"], loss={})
    with pytest.raises(ValueError, match="'unet_roi' of family 'segmentation' needs a loss"):
        get_family("segmentation").loss_config(spec)


def test_configs_read_the_family_object(monkeypatch):
    """A new family is one object: its metrics, loss, post-processing, report, outputs and DDP sampler reach every
    config without touching a template."""
    toy = dataclasses.replace(
        get_family("segmentation"),
        name="toy",
        metrics={"val_toy": {"_target_": "ToyMetric"}, "val_other": {"_target_": "OtherMetric"}},
        validation_postprocessing=({"_target_": "ToyPost"},),
        report_handler={"_target_": "ToyReport", "output_dir": "@output_dir"},
        items_target="toy_target",
        loss={"_target_": "ToyLoss"},
        eval_metrics=("toy_score",),
        pred_output=lambda spec: {"type": "toy"},
        inference_postprocessing=lambda spec, level: [{"_target_": "ToyWriter", "root": level.output_root}],
        inference_handlers=({"_target_": "ToyCSV"},),
    )
    monkeypatch.setitem(FAMILIES, "toy", toy)
    spec = dataclasses.replace(SPECS["unet_roi"], name="toy_bundle", family="toy", loss={})
    cfg = _configs(spec)
    train = cfg["configs/train.json"]
    assert train["key_metric"] == "val_toy" and list(train["validate"]["metrics"]) == ["val_toy", "val_other"]
    assert train["loss"] == {"_target_": "ToyLoss"}
    assert train["train"]["section_items"]["target"] == "toy_target"
    assert train["validate"]["postprocessing"]["transforms"] == [{"_target_": "ToyPost"}]
    assert train["train"]["handlers"][-1]["metric_names"] == ["val_toy", "val_other"]
    assert "sampler" not in train["train"] and train["train"]["dataloader"]["shuffle"] is True
    report = cfg["configs/evaluate.json"]["validate#handlers"][-1]
    assert report["_target_"] == "ToyReport" and report["model_name"] == "toy_bundle"
    infer = cfg["configs/inference.json"]
    assert infer["postprocessing"]["transforms"][0]["_target_"] == "ToyWriter"
    assert infer["handlers"][-1] == {"_target_": "ToyCSV"}
    assert cfg["configs/multi_gpu_train.json"]["train#sampler"]["_target_"] == "DistributedSampler"
    meta = cfg["configs/metadata.json"]
    assert list(meta["eval_metrics"]) == ["toy_score"]
    assert meta["network_data_format"]["outputs"]["pred"] == {"type": "toy"}


def test_classification_family_brings_its_sampler_class_weights_and_trainable_parameters():
    cfg = _configs(SPECS["vgg16_classification"])
    train = cfg["configs/train.json"]
    assert train["train"]["sampler"]["_target_"] == "monai_cbis.data.sampling.train_sampler"
    assert train["train"]["dataloader"]["sampler"] == "@train#sampler"
    assert train["loss"]["weight"]["_target_"] == "monai_cbis.data.sampling.loss_class_weights"
    assert "requires_grad" in train["optimizer"]["params"]
    assert train["train"]["section_items"]["num_classes"] == "@num_classes"
    assert cfg["configs/multi_gpu_train.json"]["train#sampler#distributed"] is True


def test_templates_do_not_branch_on_family_or_level_names():
    """``spec.family`` / ``spec.level`` are only looked up, and no comparison names a family or a level."""
    names = set(FAMILIES) | set(LEVELS)
    for module in (training, inference, metadata):
        tree = ast.parse(inspect.getsource(module))
        lookups = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("get_family", "get_level"):
                lookups.update(id(a) for a in node.args)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("family", "level"):
                assert id(node) in lookups, f"{module.__name__} line {node.lineno} reads {node.attr} directly"
            if isinstance(node, ast.Compare):
                consts = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant)}
                assert not consts & names, f"{module.__name__} line {node.lineno} compares with {consts & names}"


def test_family_is_a_frozen_dataclass():
    assert dataclasses.is_dataclass(BundleFamily)
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_family("segmentation").name = "x"


def test_detection_engines_inferer_collation_and_screening_come_from_the_family():
    """The detector's bundle differs from the others only through its family object: its engines, the detector
    component, list collation, the box screening of train / validate items and the long-side size parameter."""
    spec = SPECS["retinanet_detection"]
    cfg = _configs(spec)
    train = cfg["configs/train.json"]
    assert train["train"]["trainer"]["_target_"] == "monai_cbis.engines.DetectionTrainer"
    assert train["validate"]["evaluator"]["_target_"] == "monai_cbis.engines.DetectionEvaluator"
    assert train["train"]["trainer"]["detector"] == "@detector" == train["validate"]["evaluator"]["detector"]
    assert train["detector"]["network"] == "@network_def"
    assert train["train"]["dataloader"]["collate_fn"] == "$monai.data.utils.no_collation"
    assert train["train"]["items"]["_target_"] == "monai_cbis.transforms.box_items"
    assert train["train"]["items"]["items"] == "@train#readable_items"
    assert "image_size" not in train and train["long_side"] == spec.image_size
    infer = cfg["configs/inference.json"]
    assert infer["detector"]["window_size"] == "@long_side"  # MONAI Label runs detectors with use_inferer=True
    assert infer["handlers"][-1]["_target_"] == "monai_cbis.handlers.DetectionWriter"
    other = _configs(SPECS["unet_effb3"])["configs/train.json"]
    assert "collate_fn" not in other["train"]["dataloader"] and "readable_items" not in other["train"]


def test_patch_segmentation_differs_from_segmentation_only_in_its_inferers_batch_and_patch_metadata():
    """unet_highres trains on patches (SimpleInferer) and validates, evaluates and infers with a sliding window over
    whole films, one a batch; everything else (metrics, report, outputs, breast gate) is the segmentation family's,
    and its reports are segmentation reports."""
    patch, seg = get_family("patch_segmentation"), get_family("segmentation")
    same = ("metrics", "validation_postprocessing", "report_handler", "breast_gate", "output_formats", "loss")
    assert all(getattr(patch, f) == getattr(seg, f) for f in same)
    assert (patch.kind, seg.kind, get_family("detection").kind) == ("segmentation", "segmentation", "detection")
    cfg = _configs(SPECS["unet_highres"])
    train, infer = cfg["configs/train.json"], cfg["configs/inference.json"]
    assert train["train"]["inferer"] == {"_target_": "SimpleInferer"}
    assert train["validate"]["inferer"]["_target_"] == "SlidingWindowInferer" == infer["inferer"]["_target_"]
    assert train["validate"]["dataloader"]["batch_size"] == 1
    assert all(k in train and k in infer for k in ("patch_size", "sw_overlap", "sw_mode", "sw_batch_size"))
    assert cfg["configs/metadata.json"]["network_data_format"]["inputs"]["image"]["is_patch_data"] is True
    other = _configs(SPECS["unet_effb3"])["configs/train.json"]
    assert other["validate"]["inferer"] == other["train"]["inferer"] == {"_target_": "SimpleInferer"}
    assert other["validate"]["dataloader"]["batch_size"] == "@batch_size"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_trainer_drops_gradients_instead_of_zeroing_them(name):
    # zeroing ~30M gradients and adding the next backward into them cost the detector ~5 % of a CPU step against a
    # plain loop (benchmarks/detection_train_step.py); the argument must be one the family's engine really takes
    import pydoc

    import monai.engines

    trainer = _configs(SPECS[name])["configs/train.json"]["train"]["trainer"]
    assert trainer["optim_set_to_none"] is True
    target = trainer["_target_"]
    cls = pydoc.locate(target) if "." in target else getattr(monai.engines, target)
    inits = [vars(c)["__init__"] for c in cls.__mro__ if "__init__" in vars(c)]  # through **kwargs to MONAI's
    assert any("optim_set_to_none" in inspect.signature(f).parameters for f in inits)


def test_the_train_json_augmentation_switches_follow_the_presets_that_have_them():
    # the zoo names these presets rather than importing the transforms; this is where a drift shows
    from monai_cbis.transforms.presets.registry import PRESETS

    have = {name for name, make in PRESETS.items() if {"augment_backend", "augment_device"} <= set(make().params)}
    assert set(augment_switch.AUGMENT_SWITCH_PRESETS) == have
    for spec in SPECS.values():
        params = _configs(spec)["configs/train.json"]
        assert ("augment_backend" in params) == (spec.preset in have), spec.name
        trainer = params["train"]["trainer"]
        assert ("prepare_batch" in trainer) == (spec.preset in have), spec.name
