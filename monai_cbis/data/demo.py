"""The embedded synthetic demo: which ``dataset_dir`` means "the demo", where it is cached, and which folder to index.

An empty ``dataset_dir`` (or ``"synthetic"`` / ``"demo"``) means the embedded synthetic CBIS-DDSM (:data:`DEMO`): it
is written once into a cache folder (``$MONAI_CBIS_CACHE`` or ``~/.cache/monai_cbis``) and reused. Any other
``dataset_dir`` must be a CBIS-DDSM download: a path that does not exist is an error, never a fall-back to the demo
(and a folder without CBIS-DDSM fails when it is indexed).

This module decides only *which folder* the data is in; :mod:`monai_cbis.data.items` turns a folder into items. It
imports neither PyTorch nor MONAI.

Example (in a bundle config)::

    "dataset_dir": "",
    "data_root": {"_target_": "monai_cbis.data.resolve_dataset_dir", "dataset_dir": "@dataset_dir"}

Example:
    >>> is_demo(""), is_demo("Synthetic"), is_demo("/data/CBIS-DDSM")
    (True, True, False)
"""

from __future__ import annotations

import os
import shutil
import tempfile

__all__ = ["DEMO", "DEMO_NAMES", "cache_root", "demo_data_dir", "is_demo", "resolve_dataset_dir"]

#: The embedded synthetic set: what ``dataset_dir=""`` trains on.
DEMO = {"layout": "classic", "cases": 150, "seed": 0}
#: The ``dataset_dir`` values (case-insensitive, stripped) that select the demo; ``None`` does too.
DEMO_NAMES = ("", "synthetic", "demo")


def is_demo(dataset_dir: str | os.PathLike | None) -> bool:
    """Whether ``dataset_dir`` selects the synthetic demo: ``None``, ``""``, ``"synthetic"`` or ``"demo"``."""
    return dataset_dir is None or str(dataset_dir).strip().lower() in DEMO_NAMES


def cache_root() -> str:
    """``$MONAI_CBIS_CACHE`` or ``~/.cache/monai_cbis``."""
    return os.environ.get("MONAI_CBIS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "monai_cbis")


def demo_data_dir(cache_dir: str | None = None, **overrides) -> str:
    """Write (once) and return the synthetic CBIS-DDSM demo collection.

    Safe when several processes (DDP ranks, DataLoader workers) ask at once: each writes into its own temporary
    folder and renames it into place; the first rename wins and the others discard their copy.

    Args:
        cache_dir: the folder holding cached collections; default :func:`cache_root`.
        overrides: replace entries of :data:`DEMO` (``layout``, ``cases``, ``seed``); each setting has its own folder.
    """
    from .synthetic import MANIFEST_NAME, make_synthetic_cbis

    params = {**DEMO, **overrides}
    name = f"synthetic-{params['layout']}-cases{params['cases']}-seed{params['seed']}"
    target = os.path.join(cache_dir or cache_root(), name)
    if os.path.isfile(os.path.join(target, MANIFEST_NAME)):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{name}.", dir=os.path.dirname(target))
    try:
        make_synthetic_cbis(os.path.join(tmp, "c"), **params)
        try:
            os.rename(os.path.join(tmp, "c"), target)
        except OSError:
            if not os.path.isfile(os.path.join(target, MANIFEST_NAME)):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_dataset_dir(dataset_dir: str | os.PathLike | None = "", cache_dir: str | None = None) -> str:
    """The folder to index: ``dataset_dir`` itself, or the synthetic demo when it is empty (see :func:`is_demo`).

    Raises:
        FileNotFoundError: ``dataset_dir`` is given but does not exist (never a silent fall-back to the demo).
    """
    if is_demo(dataset_dir):
        root = demo_data_dir(cache_dir)
        print(f"monai_cbis: synthetic demo data at {root} (pass --dataset_dir for a real CBIS-DDSM download)")
        return root
    path = os.path.abspath(os.path.expanduser(str(dataset_dir)))
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"dataset_dir {dataset_dir!r} does not exist or is not a folder. Pass the folder of a CBIS-DDSM "
            "download (classic TCIA, NBIA or Kaggle layout), or leave dataset_dir empty for the synthetic demo."
        )
    return path
