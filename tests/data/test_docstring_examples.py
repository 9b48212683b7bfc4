"""The docstring examples of the monai_cbis.data modules run (every module that has one); those that need a real
download are marked ``+SKIP`` and do not count."""

from __future__ import annotations

import pytest
from docstring_examples import modules_with_examples, run_examples

PACKAGE = "monai_cbis.data"
MODULES = ["case_fields", "dataset", "demo", "items", "sampling", "skips", "splits", "verify"]
MODULES += ["synthetic", "synthetic.collection", "synthetic.drawing", "synthetic.encode", "synthetic.model"]
MODULES += ["synthetic.plan", "synthetic.realistic", "synthetic.vocabulary"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    run_examples(PACKAGE, name)


def test_every_module_with_examples_is_listed():
    """A new module's examples (or a listed module's lost ones) do not go unnoticed."""
    assert modules_with_examples(PACKAGE) == set(MODULES), "list every module with examples in MODULES (and no other)"
