"""Synthetic CBIS-DDSM collections shared by the data tests (written once per session, read-only in tests)."""

from __future__ import annotations

import os
import shutil

import pytest
from scratch import scratch_dir

from monai_cbis.data.synthetic import make_synthetic_cbis

LAYOUTS = ("classic", "nbia", "kaggle")


@pytest.fixture(scope="session", params=LAYOUTS)
def collection(request, tmp_path_factory):
    """One synthetic collection per layout (do not modify: copy it with ``mutable_copy``)."""
    return make_synthetic_cbis(
        scratch_dir(request, tmp_path_factory, f"cbis_{request.param}"), layout=request.param, cases=16, seed=1
    )


@pytest.fixture(scope="session")
def classic(request, tmp_path_factory):
    return make_synthetic_cbis(
        scratch_dir(request, tmp_path_factory, "cbis_classic_only"), layout="classic", cases=16, seed=2
    )


@pytest.fixture
def mutable_copy(tmp_path):
    """Copy a collection's folder to a fresh place for tests that damage files; returns (new root, path map)."""

    def copy(col):
        dst = tmp_path / "copy"
        shutil.copytree(col.root, dst)

        def moved(path: str) -> str:
            return str(dst / os.path.relpath(path, col.root))

        return str(dst), moved

    return copy


@pytest.fixture(scope="session")
def small_demo(request, tmp_path_factory):
    """A small classic collection for the lesion-item and inference-input tests (read-only)."""
    return make_synthetic_cbis(
        scratch_dir(request, tmp_path_factory, "lesions") / "cbis", layout="classic", cases=10, seed=2
    )
