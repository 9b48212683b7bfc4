"""Render, write and check the bundle folders from :data:`~monai_cbis.zoo.specs.SPECS`.

Generated per bundle: ``configs/{train,evaluate,inference,multi_gpu_train,metadata}.json``,
``configs/logging.conf``, ``LICENSE`` and ``docs/data_license.txt``. Each bundle's ``docs/README.md`` is written by
hand (it holds that bundle's measured figures) and is only checked for presence.

Example:
    >>> check_bundles("bundles")  # doctest: +SKIP
    []
    >>> write_bundles("bundles")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from importlib import resources

from ..atomic import atomic_write
from .specs import SPECS, BundleSpec
from .templates import CONFIG_FILES

__all__ = ["render_bundle", "write_bundles", "check_bundles", "STATIC_FILES"]

#: static file -> its path inside every bundle.
STATIC_FILES = {
    "LICENSE": "LICENSE",
    "logging.conf": "configs/logging.conf",
    "data_license.txt": "docs/data_license.txt",
}


def _dump(cfg: dict) -> str:
    return json.dumps(cfg, indent=4, ensure_ascii=False) + "\n"


def render_bundle(spec: BundleSpec) -> dict[str, str]:
    """``{relative path: file text}`` of every generated file of one bundle."""
    files = {rel: _dump(make(spec)) for rel, make in CONFIG_FILES.items()}
    static = resources.files("monai_cbis.zoo") / "static"
    for name, rel in STATIC_FILES.items():
        files[rel] = (static / name).read_text(encoding="utf-8")
    return files


def _selected(names) -> list[BundleSpec]:
    names = list(names) if names else list(SPECS)
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        raise ValueError(f"Unknown bundle(s) {unknown}, available options are {list(SPECS)}.")
    return [SPECS[n] for n in names]


def write_bundles(bundles_dir: str | os.PathLike, names=None) -> list[str]:
    """(Re)write the generated files of the named bundles (all by default); returns the files that changed."""
    changed = []
    for spec in _selected(names):
        for rel, text in render_bundle(spec).items():
            path = os.path.join(bundles_dir, spec.name, rel)
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    if f.read() == text:
                        continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            atomic_write(path, lambda f, t=text: f.write(t), mode="w")
            changed.append(path)
    return changed


def check_bundles(bundles_dir: str | os.PathLike, names=None) -> list[str]:
    """Every way the bundle folders differ from their specs, one line each (``[]`` when all are up to date)."""
    problems = []
    for spec in _selected(names):
        folder = os.path.join(bundles_dir, spec.name)
        for rel, text in render_bundle(spec).items():
            path = os.path.join(folder, rel)
            if not os.path.isfile(path):
                problems.append(f"{path}: missing")
                continue
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    problems.append(f"{path}: differs from what monai_cbis.zoo generates")
        if not os.path.isfile(os.path.join(folder, "docs", "README.md")):
            problems.append(f"{os.path.join(folder, 'docs', 'README.md')}: missing (written by hand)")
    return problems
