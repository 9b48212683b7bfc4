"""The docstring examples of every monai_cbis.zoo module run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["families", "levels", "specs", "versions", "templates", "generate", "training", "inference", "metadata"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"monai_cbis.zoo.{name}")
    assert doctest.testmod(module).failed == 0
