"""The Examples in the transforms' docstrings run and print what they say."""

from __future__ import annotations

import pytest
from docstring_examples import modules_with_examples, run_examples

PACKAGE = "monai_cbis.transforms"
MODULES = ["views", "checks", "resample", "io", "masks", "intensity", "crop", "spatial", "boxes", "cache", "labels"]
MODULES += ["meta", "lesion_crop", "presets.base", "presets.full_mammogram", "presets.roi_crop", "presets.registry"]
MODULES += ["presets.lesion_classification", "readable", "lesion_boxes", "presets.detection", "breast_gate", "device"]
MODULES += ["presets.highres", "film_geometry", "crop_scale"]
MODULES += ["pixel_spacing"]
MODULES += ["opencv_augment", "loader", "augment_draw", "batch_augment"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    run_examples(PACKAGE, name)


def test_every_module_with_examples_is_listed():
    """A new module's examples (or a listed module's lost ones) do not go unnoticed."""
    assert modules_with_examples(PACKAGE) == set(MODULES), "list every module with examples in MODULES (and no other)"


def test_public_api_is_exported():
    import monai_cbis.transforms as t

    for name in t.__all__:
        assert getattr(t, name) is not None
    for name in (
        "CLAHE",
        "MedianFilter",
        "TrimBorder",
        "CropBreast",
        "FlipToLeft",
        "CropByROI",
        "MaskToBox",
        "GateByBreast",
    ):
        assert f"{name}d" in t.__all__  # every array transform has its dictionary twin
