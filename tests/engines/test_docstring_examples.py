"""The docstring examples of the monai_cbis.engines modules run (every module that has one)."""

from __future__ import annotations

import pytest
from docstring_examples import modules_with_examples, run_examples

PACKAGE = "monai_cbis.engines"
MODULES = ["detection", "coco_metric", "prepare"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    run_examples(PACKAGE, name)


def test_every_module_with_examples_is_listed():
    """A new module's examples (or a listed module's lost ones) do not go unnoticed."""
    assert modules_with_examples(PACKAGE) == set(MODULES), "list every module with examples in MODULES (and no other)"
