"""The Examples in the transforms' docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["views", "checks", "resample", "io", "masks", "intensity", "crop", "spatial", "boxes", "presets", "cache"]
MODULES += ["lesion_crop", "presets.base", "presets.full_mammogram", "presets.roi_crop", "presets.registry"]
MODULES += ["presets.lesion_classification"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"monai_cbis.transforms.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module.__name__}"


def test_public_api_is_exported():
    import monai_cbis.transforms as t

    for name in t.__all__:
        assert getattr(t, name) is not None
    for name in ("CLAHE", "MedianFilter", "TrimBorder", "CropBreast", "FlipToLeft", "CropByROI", "MaskToBox"):
        assert f"{name}d" in t.__all__  # every array transform has its dictionary twin
