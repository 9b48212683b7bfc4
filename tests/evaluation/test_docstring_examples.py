"""The Example sections of the evaluation modules run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["__init__", "segmentation", "classification", "reports", "figures", "handlers", "curves", "references"]
MODULES += ["compare", "compare.collect", "compare.rows", "compare.table", "compare.chart", "compare.write"]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    module = importlib.import_module("monai_cbis.evaluation" + ("" if name == "__init__" else f".{name}"))
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
