"""The harness of every package's docstring-example test: run a module's Examples, and find the modules that have any.

Each package's test lists its modules with examples and calls :func:`run_examples` on each, and checks the list with
:func:`modules_with_examples`, so an Example that stops running (or a new module's that never ran) fails a test.
Importable because pyproject's pytest ``pythonpath`` lists ``tests`` (test modules cannot import each other under
``--import-mode=importlib``).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module(package: str, name: str):
    return importlib.import_module(package if name == "__init__" else f"{package}.{name}")


def runnable_examples(module) -> int:
    """Examples doctest would run in ``module`` (its own docstrings, ``+SKIP`` ones left out)."""
    tests = doctest.DocTestFinder().find(module)
    return sum(not e.options.get(doctest.SKIP) for t in tests for e in t.examples)


def run_examples(package: str, name: str) -> None:
    """Run the Examples of ``package.name`` (``"__init__"``: the package itself); at least one must run, none fail."""
    module = _module(package, name)
    result = doctest.testmod(module, optionflags=FLAGS)
    assert result.attempted > 0, f"no example ran in {module.__name__}: an empty or all-skipped Example passes nothing"
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module.__name__}"


def modules_with_examples(package: str) -> set[str]:
    """The modules of ``package`` (and ``"__init__"``, the package itself) with runnable Examples; ``__main__``
    modules are left out (importing one runs its command)."""
    root = importlib.import_module(package)
    names = {m.name.removeprefix(f"{package}.") for m in pkgutil.walk_packages(root.__path__, f"{package}.")}
    names = {n for n in names if n.split(".")[-1] != "__main__"} | {"__init__"}
    return {n for n in names if runnable_examples(_module(package, n))}
