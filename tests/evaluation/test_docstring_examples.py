"""The Example sections of the evaluation modules run and print what they claim."""

from __future__ import annotations

import pytest
from docstring_examples import modules_with_examples, run_examples

PACKAGE = "monai_cbis.evaluation"
MODULES = ["__init__", "segmentation", "classification", "reports", "figures", "handlers", "curves", "references"]
MODULES += ["compare", "compare.collect", "compare.rows", "compare.table", "compare.chart", "compare.write"]
MODULES += ["froc", "lesion_components", "bootstrap", "detection_map", "lesion_attributes", "lesion_level"]
MODULES += ["lesion_report", "lesion_figures", "detection_handler", "_engine"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    run_examples(PACKAGE, name)


def test_every_module_with_examples_is_listed():
    """A new module's examples (or a listed module's lost ones) do not go unnoticed."""
    assert modules_with_examples(PACKAGE) == set(MODULES), "list every module with examples in MODULES (and no other)"
