"""The docstring examples of the monai_cbis.handlers modules run (every module that has one)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import monai_cbis.handlers

MODULES = ["early_stop", "validation"]


def _runnable_examples(module) -> int:
    """Examples doctest would run in ``module`` (its own docstrings, ``+SKIP`` ones left out)."""
    tests = doctest.DocTestFinder().find(module)
    return sum(not e.options.get(doctest.SKIP) for t in tests for e in t.examples)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(f"monai_cbis.handlers.{name}"), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"no example ran in monai_cbis.handlers.{name}: an empty Example passes nothing"
    assert result.failed == 0


def test_every_module_with_examples_is_listed():
    """A new module's examples (or a listed module's lost ones) do not go unnoticed."""
    prefix = "monai_cbis.handlers."
    found = [m.name for m in pkgutil.walk_packages(monai_cbis.handlers.__path__, prefix)] + ["monai_cbis.handlers"]
    with_examples = {n.removeprefix(prefix) for n in found if _runnable_examples(importlib.import_module(n))}
    assert with_examples == set(MODULES), "list every module with examples in MODULES (and no other)"
