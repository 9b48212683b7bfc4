"""The Examples in the transforms' docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import monai_cbis.transforms

MODULES = ["views", "checks", "resample", "io", "masks", "intensity", "crop", "spatial", "boxes", "cache", "labels"]
MODULES += ["meta", "lesion_crop", "presets.base", "presets.full_mammogram", "presets.roi_crop", "presets.registry"]
MODULES += ["presets.lesion_classification", "readable"]


def _runnable_examples(module) -> int:
    """Examples doctest would run in ``module`` (its own docstrings, ``+SKIP`` ones left out)."""
    tests = doctest.DocTestFinder().find(module)
    return sum(not e.options.get(doctest.SKIP) for t in tests for e in t.examples)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"monai_cbis.transforms.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"no example ran in {module.__name__}: an empty or all-skipped Example passes nothing"
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module.__name__}"


def test_every_module_with_examples_is_listed():
    """A new module's examples (or a listed module's lost ones) do not go unnoticed."""
    prefix = "monai_cbis.transforms."
    found = [m.name for m in pkgutil.walk_packages(monai_cbis.transforms.__path__, prefix)]
    with_examples = {n.removeprefix(prefix) for n in found if _runnable_examples(importlib.import_module(n))}
    assert with_examples == set(MODULES), "list every module with examples in MODULES (and no other)"


def test_public_api_is_exported():
    import monai_cbis.transforms as t

    for name in t.__all__:
        assert getattr(t, name) is not None
    for name in ("CLAHE", "MedianFilter", "TrimBorder", "CropBreast", "FlipToLeft", "CropByROI", "MaskToBox"):
        assert f"{name}d" in t.__all__  # every array transform has its dictionary twin
