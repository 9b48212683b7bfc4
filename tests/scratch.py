"""Temporary folders for fixtures wider than one test, removed when the fixture's scope ends.

pytest removes a passed test's ``tmp_path`` (``tmp_path_retention_policy = "failed"`` in ``pyproject.toml``) but
keeps every ``tmp_path_factory.mktemp`` folder until the whole session ends. The module-scoped bundle fixtures
(collections, trained runs, fake ImageNet weights of 0.1-0.5 GB each, MONAI Label apps) add up to 8-12 GB that way,
on a CI disk that also holds two complete virtual environments: one CI run failed with "No space left on device".
``scratch_dir`` gives such a fixture its folder and deletes it at the fixture's teardown, unless a test failed
meanwhile (then it stays for inspection, as ``tmp_path`` does).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def scratch_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """``tmp_path_factory.mktemp(name)``, removed when ``request``'s fixture is torn down and no test failed."""
    path = tmp_path_factory.mktemp(name)
    failed_before = request.session.testsfailed

    def remove() -> None:
        if request.session.testsfailed == failed_before:
            shutil.rmtree(path, ignore_errors=True)

    request.addfinalizer(remove)
    return path
