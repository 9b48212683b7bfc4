"""The docstring examples of the monai_cbis.zoo modules run (every module that has one)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import monai_cbis.zoo

MODULES = ["__init__", "families", "levels", "specs", "versions", "templates"]


def _module(name: str):
    return importlib.import_module("monai_cbis.zoo" + ("" if name == "__init__" else f".{name}"))


def _runnable_examples(module) -> int:
    """Examples doctest would run in ``module`` (its own docstrings, ``+SKIP`` ones left out)."""
    tests = doctest.DocTestFinder().find(module)
    return sum(not e.options.get(doctest.SKIP) for t in tests for e in t.examples)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(_module(name))
    assert result.attempted > 0, f"no example ran in monai_cbis.zoo.{name}: an empty Example passes nothing"
    assert result.failed == 0


def test_every_module_with_examples_is_listed():
    """A new module's examples (or a listed module's lost ones) do not go unnoticed; __main__ runs the CLI."""
    prefix = "monai_cbis.zoo."
    found = {m.name.removeprefix(prefix) for m in pkgutil.walk_packages(monai_cbis.zoo.__path__, prefix)}
    found = (found - {"__main__"}) | {"__init__"}
    with_examples = {n for n in found if _runnable_examples(_module(n))}
    assert with_examples == set(MODULES), "list every module with examples in MODULES (and no other)"
