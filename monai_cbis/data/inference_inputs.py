"""Inference inputs: what a bundle's ``inference.json`` runs on, and the folder its outputs mirror.

Training reads a split collection (:mod:`monai_cbis.data.items`); inference takes whatever the user points at:

* nothing (``dataset_dir=""``): the test section of the synthetic demo (:mod:`monai_cbis.data.demo`), so the
  inference command runs out of the box;
* a CBIS-DDSM download: its test section (lesions with their ROI masks, for paper B's lesion-level bundles);
* a plain folder: every 2-D DICOM / PNG / JPEG image in it (:func:`folder_items`; other files are named and left
  out);
* a JSON datalist of ``{"image", "mask" or "box"}`` items (:func:`read_inference_datalist`).

Outputs are written under a folder that mirrors the inputs' tree (:func:`inference_root`,
:func:`lesion_inference_root`), so ``a/1-1.dcm`` and ``b/1-1.dcm`` do not collide. This module imports neither
PyTorch nor MONAI.

Example (in an inference config)::

    "datalist": {"_target_": "monai_cbis.data.inference_items", "dataset_dir": "@dataset_dir"},
    "output_root": "$monai_cbis.data.inference_root(@dataset_dir)"
"""

from __future__ import annotations

import json
import os

from .demo import demo_data_dir, is_demo, resolve_dataset_dir
from .files import UnreadableImageError, read_header
from .items import section_items
from .records import find_case_csvs
from .skips import SkippedItems, describe_skip

__all__ = [
    "DATALIST_SECTIONS",
    "INPUT_SUFFIXES",
    "folder_items",
    "inference_items",
    "inference_root",
    "lesion_inference_items",
    "lesion_inference_root",
    "read_inference_datalist",
]

#: The file types an inference folder is scanned for (case-insensitive).
INPUT_SUFFIXES = (".dcm", ".dicom", ".png", ".jpg", ".jpeg")
#: The keys of a dict-shaped inference datalist that may hold the item list (the first one present is used).
DATALIST_SECTIONS = ("testing", "test", "inference", "data")


def _user_path(path: str | os.PathLike) -> str:
    return os.path.abspath(os.path.expanduser(str(path)))


def _folder_skip(path: str) -> dict | None:
    """Why ``path`` cannot be an inference input (``None`` when it can): its type, an empty file, or a header that
    does not describe one 2-D image (damaged, truncated, a 3-D volume)."""
    if not path.lower().endswith(INPUT_SUFFIXES):
        detail = f"{path}: not a DICOM, PNG or JPEG file (inference takes {list(INPUT_SUFFIXES)})"
        return {"path": path, "reason": "unsupported_type", "detail": detail}
    if os.path.getsize(path) == 0:
        return {"path": path, "reason": "empty_file", "detail": f"{path}: the file is empty (0 bytes)"}
    try:
        read_header(path)
    except UnreadableImageError as e:
        return {"path": path, "reason": "file_unreadable", "detail": str(e)}
    return None


def folder_items(folder: str, skipped: SkippedItems | None = None) -> list[dict]:
    """``[{"image": path}]`` for every 2-D DICOM, PNG or JPEG image in ``folder`` (recursively, sorted).

    Every other file is left out and named (``input`` stage of ``skipped``): another type (a NIfTI volume, notes),
    an empty file, a header that is damaged, truncated or holds several frames (a 3-D volume). Only headers are
    read here; the run decodes the pixels.

    Args:
        folder: the inference input folder.
        skipped: the run's ledger (:class:`~monai_cbis.data.skips.SkippedItems`); None drops the reasons.

    Raises:
        FileNotFoundError: ``folder`` is missing or holds no usable image (the message names it and what it holds).
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Inference input folder {folder!r} does not exist or is not a folder.")
    files = sorted(os.path.join(d, n) for d, _, names in os.walk(folder) for n in names)
    items, skips = [], []
    for f in files:
        skip = _folder_skip(f)
        if skip is None:
            items.append({"image": f})
        else:
            skips.append(skip)
    if skipped is not None:
        skipped.extend(skips, stage="input")
    if not items:
        found = f"; it holds {len(files)} other file(s), e.g. {describe_skip(skips[0])}" if skips else ""
        raise FileNotFoundError(f"No DICOM, PNG or JPEG image in {folder}; expected {list(INPUT_SUFFIXES)}{found}.")
    return items


def read_inference_datalist(path: str) -> list[dict]:
    """The items of an inference datalist: a JSON list (or a dict with one of :data:`DATALIST_SECTIONS`) of image
    paths or ``{"image", "mask", "box"}`` dicts.

    Paths are made absolute relative to the file's folder and must exist; ``box`` is ``[x0, y0, x1, y1]`` in
    full-image pixels (floats in the result).

    Raises:
        ValueError: unreadable JSON, no item list, an item without ``image``, a malformed ``box``, or no items.
        FileNotFoundError: an item's ``image`` or ``mask`` file does not exist (the message names the item).

    Example:
        >>> read_inference_datalist("films.json")  # doctest: +SKIP
        [{'image': '/data/films/a.dcm', 'box': [10.0, 20.0, 110.0, 120.0]}]
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"Cannot read the inference datalist {path}: {e}") from e
    if isinstance(data, dict):
        found = [k for k in DATALIST_SECTIONS if isinstance(data.get(k), list)]
        if not found:
            raise ValueError(
                f"{path}: expected a list of items or a dict with one of {list(DATALIST_SECTIONS)}; "
                f"it has keys {sorted(data)}."
            )
        data = data[found[0]]
    base = os.path.dirname(os.path.abspath(path))
    items = []
    for n, item in enumerate(data):
        if isinstance(item, str):
            item = {"image": item}
        if not isinstance(item, dict) or not item.get("image"):
            raise ValueError(f"{path}: item {n} has no 'image': {item!r}.")
        out = {}
        for k in ("image", "mask"):
            if item.get(k):
                p = os.path.expanduser(str(item[k]))
                out[k] = p if os.path.isabs(p) else os.path.join(base, p)
                if not os.path.isfile(out[k]):
                    raise FileNotFoundError(f"{path}: item {n}: {k} file {out[k]} does not exist.")
        if item.get("box") is not None:
            box = item["box"]
            if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
                raise ValueError(f"{path}: item {n}: box must be [x0, y0, x1, y1] in full-image pixels, got {box!r}.")
            out["box"] = [float(v) for v in box]
        items.append(out)
    if not items:
        raise ValueError(f"The inference datalist {path} holds no items.")
    return items


def inference_items(
    dataset_dir: str | None = "", cache_dir: str | None = None, skipped: SkippedItems | None = None
) -> list[dict]:
    """Inference inputs: every 2-D DICOM/PNG/JPEG image under ``dataset_dir`` (:func:`folder_items`), or, when it
    is empty, the full mammograms of the synthetic demo's test section (so the inference command runs out of the
    box). ``skipped`` receives what was left out (see :func:`folder_items`)."""
    if is_demo(dataset_dir):
        root = resolve_dataset_dir("", cache_dir)
        items = section_items(root, "test", task="both", level="image", skipped=skipped)
        return [{"image": i["image"]} for i in items]
    return folder_items(_user_path(dataset_dir), skipped)


def inference_root(dataset_dir: str | None = "", cache_dir: str | None = None) -> str:
    """The folder that output masks mirror (so ``a/1-1.dcm`` and ``b/1-1.dcm`` do not collide)."""
    if is_demo(dataset_dir):
        return demo_data_dir(cache_dir)
    return _user_path(dataset_dir)


def lesion_inference_items(
    dataset_dir: str | None = "",
    datalist: str | None = "",
    task: str = "mass",
    section: str = "test",
    skipped: SkippedItems | None = None,
) -> list[dict]:
    """Inference inputs of paper B's bundles: ``{"image"}`` items, with a ``"mask"`` to crop around when known.

    * ``datalist``: a JSON list of ``{"image": ..., "mask": ...}`` (``mask`` optional, or a ``box``
      ``[x0, y0, x1, y1]`` in full-image pixels for the classifiers; paths relative to the file), see
      :func:`read_inference_datalist`;
    * else an empty ``dataset_dir``: the lesions of the synthetic demo's ``section`` (runs out of the box);
    * else a CBIS-DDSM download (it has the case CSVs): the lesions of its ``section``, each with its ROI mask;
    * else a plain folder: every DICOM/PNG/JPEG in it, whole images (no mask: the model sees the whole film).

    ``skipped`` (a run's :class:`~monai_cbis.data.skips.SkippedItems`) receives the rows and files left out.

    Example:
        >>> lesion_inference_items("", task="mass")[0]  # doctest: +SKIP
        {'image': '.../1-1.dcm', 'mask': '.../1-2.dcm'}
    """
    if datalist:
        return read_inference_datalist(_user_path(datalist))
    root = resolve_dataset_dir(dataset_dir)
    if not (is_demo(dataset_dir) or find_case_csvs(root)):  # a download: case CSVs, found as the indexer does
        return folder_items(root, skipped)
    items = section_items(root, section, task=task, level="abnormality", skipped=skipped)
    return [{"image": i["image"], "mask": i["mask"]} for i in items]


def lesion_inference_root(dataset_dir: str | None = "", datalist: str | None = "") -> str:
    """The folder that lesion-level output masks mirror: the datalist's inputs' common folder, else as
    :func:`inference_root`."""
    if datalist:
        items = read_inference_datalist(_user_path(datalist))
        paths = [os.path.dirname(i[k]) for i in items for k in ("image", "mask") if k in i]
        return os.path.commonpath(paths)
    return inference_root(dataset_dir)
