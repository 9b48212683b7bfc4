"""Render, write and check the bundle folders from :data:`~monai_cbis.zoo.specs.SPECS`.

Generated per bundle: ``configs/{train,evaluate,inference,multi_gpu_train,metadata}.json`` (and
``configs/evaluate_films.json`` where it applies), ``configs/logging.conf``, ``LICENSE`` and
``docs/data_license.txt``. Each bundle's ``docs/README.md`` is written by hand (it holds that bundle's measured
figures) and is only checked for presence. ``metadata.json`` is compared with
the package versions it already records (:mod:`~monai_cbis.zoo.versions`): installed versions alone are no drift.

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
from .versions import keep_recorded_versions

__all__ = ["render_bundle", "write_bundles", "check_bundles", "STATIC_FILES"]

#: static file -> its path inside every bundle.
STATIC_FILES = {
    "LICENSE": "LICENSE",
    "logging.conf": "configs/logging.conf",
    "data_license.txt": "docs/data_license.txt",
}

_METADATA = "configs/metadata.json"


def _dump(cfg: dict) -> str:
    return json.dumps(cfg, indent=4, ensure_ascii=False) + "\n"


def render_bundle(spec: BundleSpec) -> dict[str, str]:
    """``{relative path: file text}`` of every generated file of one bundle (a template that returns None for it
    writes no file)."""
    configs = {rel: make(spec) for rel, make in CONFIG_FILES.items()}
    files = {rel: _dump(cfg) for rel, cfg in configs.items() if cfg is not None}
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


def _read(path: str) -> str | None:
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return f.read()


def _expected(spec: BundleSpec, folder: str, refresh_versions: bool = False) -> dict[str, str]:
    """:func:`render_bundle`, with the package versions the folder's ``metadata.json`` records (unless refreshed)."""
    files = render_bundle(spec)
    recorded = None if refresh_versions else _read(os.path.join(folder, _METADATA))
    if recorded is not None:
        try:
            recorded_meta = json.loads(recorded)
        except ValueError:  # not JSON: it differs, and write replaces it
            return files
        if isinstance(recorded_meta, dict):
            files[_METADATA] = _dump(keep_recorded_versions(json.loads(files[_METADATA]), recorded_meta))
    return files


def write_bundles(bundles_dir: str | os.PathLike, names=None, refresh_versions: bool = False) -> list[str]:
    """(Re)write the generated files of the named bundles (all by default); returns the files that changed.

    ``metadata.json`` keeps the package versions it records unless ``refresh_versions`` (then: the installed ones).
    """
    changed = []
    for spec in _selected(names):
        folder = os.path.join(bundles_dir, spec.name)
        for rel, text in _expected(spec, folder, refresh_versions).items():
            path = os.path.join(folder, rel)
            if _read(path) == text:
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            atomic_write(path, lambda f, t=text: f.write(t), mode="w")
            changed.append(path)
    return changed


def check_bundles(bundles_dir: str | os.PathLike, names=None) -> list[str]:
    """Every way the bundle folders differ from their specs, one line each (``[]`` when all are up to date).

    Package version values in ``metadata.json`` are not compared (:mod:`~monai_cbis.zoo.versions`).
    """
    problems = []
    for spec in _selected(names):
        folder = os.path.join(bundles_dir, spec.name)
        for rel, text in _expected(spec, folder).items():
            path = os.path.join(folder, rel)
            found = _read(path)
            if found is None:
                problems.append(f"{path}: missing")
            elif found != text:
                problems.append(f"{path}: differs from what monai_cbis.zoo generates")
        if not os.path.isfile(os.path.join(folder, "docs", "README.md")):
            problems.append(f"{os.path.join(folder, 'docs', 'README.md')}: missing (written by hand)")
    return problems
