"""Helpers that the bundle configs call by ``_target_``: where the data is, and which items a section holds.

An empty ``dataset_dir`` means the embedded synthetic CBIS-DDSM: it is written once into a cache folder
(``$MONAI_CBIS_CACHE`` or ``~/.cache/monai_cbis``) and reused. Any other ``dataset_dir`` must be a CBIS-DDSM download:
a path that does not exist or holds no CBIS-DDSM is an error, never a fall-back to the demo.

Example (in a bundle config)::

    "dataset_dir": "",
    "data_root": {"_target_": "monai_cbis.bundle.resolve_dataset_dir", "dataset_dir": "@dataset_dir"},
    "train_items": {"_target_": "monai_cbis.bundle.section_items", "dataset_dir": "@data_root",
                    "section": "training", "task": "mass", "level": "image"}
"""

from __future__ import annotations

import ast
import glob
import os
import re
import shutil
import sys
import tempfile
from functools import lru_cache

__all__ = [
    "DEMO",
    "cache_root",
    "demo_data_dir",
    "folder_items",
    "inference_items",
    "inference_root",
    "infer_bundle_root",
    "latest_checkpoint",
    "resolve_dataset_dir",
    "section_items",
]

#: The embedded synthetic set: what ``dataset_dir=""`` trains on.
DEMO = {"layout": "classic", "cases": 150, "seed": 0}
_DEMO_NAMES = ("", "synthetic", "demo")


def _is_demo(dataset_dir) -> bool:
    """An empty ``dataset_dir`` (or ``synthetic`` / ``demo``) selects the synthetic demo."""
    return dataset_dir is None or str(dataset_dir).strip().lower() in _DEMO_NAMES


def cache_root() -> str:
    """``$MONAI_CBIS_CACHE`` or ``~/.cache/monai_cbis``."""
    return os.environ.get("MONAI_CBIS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "monai_cbis")


def demo_data_dir(cache_dir: str | None = None, **overrides) -> str:
    """Write (once) and return the synthetic CBIS-DDSM demo collection.

    Safe when several processes (DDP ranks, DataLoader workers) ask at once: each writes into its own temporary
    folder and renames it into place; the first rename wins and the others discard their copy.
    """
    from .data.synthetic import MANIFEST_NAME, make_synthetic_cbis

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
    """The folder to index: ``dataset_dir`` itself, or the synthetic demo when it is empty.

    Raises:
        FileNotFoundError: ``dataset_dir`` is given but does not exist (never a silent fall-back to the demo).
    """
    if _is_demo(dataset_dir):
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


@lru_cache(maxsize=8)
def _index(root: str, task: str, include_wrong_size_masks: bool):
    from .data.indexer import index_collection

    return index_collection(root, task=task, include_wrong_size_masks=include_wrong_size_masks)


def section_items(
    dataset_dir: str,
    section: str,
    task: str = "mass",
    level: str = "image",
    split: str = "patient",
    seed: int = 0,
    val_frac: float = 0.2,
    max_items: int | None = None,
    include_wrong_size_masks: bool = False,
    keys: list[str] | None = None,
) -> list[dict]:
    """The datalist items of one section (the collection is indexed once per process and reused).

    Args:
        dataset_dir: a folder from :func:`resolve_dataset_dir`.
        section: ``training``, ``validation`` or ``test``.
        task, level, split, seed, val_frac, include_wrong_size_masks: as :func:`monai_cbis.data.build_datalist`.
        max_items: keep only the first N items (quick runs); ``None`` keeps all.
        keys: keep only these item keys (what the pipeline uses; variable-length metadata such as
            ``abnormality_ids`` cannot be batched); ``None`` keeps all.

    Raises:
        ValueError: an unknown section, or a section with no items (the message gives the section sizes).
    """
    from .data.datalist import build_datalist
    from .data.splits import SECTIONS

    if section not in SECTIONS:
        raise ValueError(f"Unsupported section: {section!r}, available options are {list(SECTIONS)}.")
    index = _index(os.path.abspath(dataset_dir), task, include_wrong_size_masks)
    dl = build_datalist(index, level=level, split=split, seed=seed, val_frac=val_frac, warn=False)
    items = dl[section]
    if not items:
        raise ValueError(
            f"The {section} section of {dataset_dir} is empty (task={task}, level={level}, split={split}, "
            f"val_frac={val_frac}); section sizes: {dl['summary']['sections']}."
        )
    items = items[:max_items] if max_items else items
    if keys is not None:
        items = [{k: item[k] for k in keys if k in item} for item in items]
    return items


def infer_bundle_root(default: str = ".") -> str:
    """The folder of the bundle being run: the parent of the ``configs/`` folder named by ``--config_file``.

    ``python -m monai.bundle run --config_file bundles/unet_effb3/configs/train.json`` from the repository root gives
    ``<repo>/bundles/unet_effb3``, so checkpoints and logs land in the bundle, not loose in the current directory.
    Without ``--config_file`` on the command line (a ``ConfigWorkflow`` built in Python, MONAI Label), ``default``.
    """
    argv = sys.argv
    for i, arg in enumerate(argv):
        if arg == "--config_file" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--config_file="):
            value = arg.split("=", 1)[1]
        else:
            continue
        if value.strip().startswith(("[", "(")):
            try:
                value = list(ast.literal_eval(value))[0]
            except (ValueError, SyntaxError, IndexError):
                continue
        folder = os.path.dirname(os.path.abspath(str(value)))
        return os.path.dirname(folder) if os.path.basename(folder) == "configs" else folder
    return os.path.abspath(default)


_EPOCH_RE = re.compile(r"epoch=(\d+)")


def latest_checkpoint(ckpt_dir: str, resume: bool = True) -> str:
    """The newest ``*checkpoint_epoch=N.pt`` in ``ckpt_dir`` (what ``--resume true`` continues from).

    Returns ``""`` when ``resume`` is false. Raises ``FileNotFoundError`` naming the folder when ``resume`` is true
    and there is nothing to resume.
    """
    if not resume:
        return ""
    found = glob.glob(os.path.join(ckpt_dir, "*checkpoint_epoch=*.pt"))
    if not found:
        raise FileNotFoundError(
            f"--resume true, but there is no checkpoint_epoch=N.pt in {ckpt_dir} to resume from. Train without "
            "--resume first, or point --ckpt_dir at the interrupted run's checkpoints."
        )
    return max(found, key=lambda p: int(_EPOCH_RE.search(os.path.basename(p)).group(1)))


_INPUT_SUFFIXES = (".dcm", ".dicom", ".png", ".jpg", ".jpeg")


def folder_items(folder: str) -> list[dict]:
    """``[{"image": path}]`` for every DICOM, PNG or JPEG file in ``folder`` (recursively, sorted), for inference.

    Raises:
        FileNotFoundError: ``folder`` is missing or holds no such file (the message names it).
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Inference input folder {folder!r} does not exist or is not a folder.")
    files = sorted(
        os.path.join(d, n) for d, _, names in os.walk(folder) for n in names if n.lower().endswith(_INPUT_SUFFIXES)
    )
    if not files:
        raise FileNotFoundError(f"No DICOM, PNG or JPEG files in {folder}; expected {list(_INPUT_SUFFIXES)}.")
    return [{"image": f} for f in files]


def inference_items(dataset_dir: str | None = "", cache_dir: str | None = None) -> list[dict]:
    """Inference inputs: every DICOM/PNG/JPEG under ``dataset_dir``, or, when it is empty, the full mammograms of
    the synthetic demo's test section (so the inference command runs out of the box)."""
    if _is_demo(dataset_dir):
        root = resolve_dataset_dir("", cache_dir)
        return [{"image": i["image"]} for i in section_items(root, "test", task="both", level="image")]
    return folder_items(os.path.abspath(os.path.expanduser(str(dataset_dir))))


def inference_root(dataset_dir: str | None = "", cache_dir: str | None = None) -> str:
    """The folder that output masks mirror (so ``a/1-1.dcm`` and ``b/1-1.dcm`` do not collide)."""
    if _is_demo(dataset_dir):
        return demo_data_dir(cache_dir)
    return os.path.abspath(os.path.expanduser(str(dataset_dir)))
