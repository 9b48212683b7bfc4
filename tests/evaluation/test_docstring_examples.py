"""The Example sections of the evaluation modules run and print what they claim."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import monai_cbis.evaluation

MODULES = ["__init__", "segmentation", "classification", "reports", "figures", "handlers", "curves", "references"]
MODULES += ["compare", "compare.collect", "compare.rows", "compare.table", "compare.chart", "compare.write"]


def _module(name: str):
    return importlib.import_module("monai_cbis.evaluation" + ("" if name == "__init__" else f".{name}"))


def _runnable_examples(module) -> int:
    """Examples doctest would run in ``module`` (its own docstrings, ``+SKIP`` ones left out)."""
    tests = doctest.DocTestFinder().find(module)
    return sum(not e.options.get(doctest.SKIP) for t in tests for e in t.examples)


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    result = doctest.testmod(_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"no example ran in {name}: an empty or all-skipped Example passes nothing"
    assert result.failed == 0


def test_every_module_with_examples_is_listed():
    """A new module's examples (or a listed module's lost ones) do not go unnoticed."""
    package = monai_cbis.evaluation
    found = {
        m.name.removeprefix("monai_cbis.evaluation.")
        for m in pkgutil.walk_packages(package.__path__, "monai_cbis.evaluation.")
    }
    with_examples = {n for n in found | {"__init__"} if _runnable_examples(_module(n))}
    assert with_examples == set(MODULES), "list every module with examples in MODULES (and no other)"
