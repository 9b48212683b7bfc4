"""Decode each item's files before the run starts: stop on the first damaged file, or leave it out and list it.

The index reads headers only, so a file whose header is sound but whose pixels are damaged (a broken compressed
stream, pixel data shorter than its header says inside a file of the right length) reaches the run. Found inside a
``DataLoader`` worker, its error would surface wrapped in the worker's and MONAI's messages, in the middle of an
epoch; skipped there, it would leave an empty batch (inference runs one film per batch) and a sampler that draws
indices the dataset no longer has. So the bundles screen their items **once, before the loader is built**
(:func:`readable_items`), in the main process:

* an item whose preprocessing is already in the persistent cache (:class:`~monai_cbis.transforms.cache
  .AtomicPersistentDataset`, keyed by the files' size and modification time) decoded before and is kept without
  reading anything; every other item's files are decoded with the loader's own reader (:class:`CBISImageReader`),
  in ``num_workers`` threads;
* without ``skip_unreadable``, a file that does not decode stops the run with one line that names it and says what
  to do (:class:`~monai_cbis.data.files.UnreadableImageError`); with it, the item is left out and recorded in the
  run's ledger (:class:`~monai_cbis.data.skips.SkippedItems`, ``load`` stage), which the bundle writes to its
  ``skipped*.json`` and logs.

The cost: on a run whose cache is cold, each file is decoded once more (about 20-35 ms for a full 16-bit film);
with a warm cache, one ``stat`` per file. Every ``DataLoader``, sampler and class weight then sees the same list.

Example (in a bundle config)::

    "items": {"_target_": "monai_cbis.transforms.readable_items", "items": "@train#section_items",
              "transform": "@train#preprocessing", "cache_dir": "@cache_dir",
              "skip_unreadable": "@skip_unreadable", "skipped": "@skipped"}
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from ..data.files import UnreadableImageError
from ..data.skips import SkippedItems
from .io import CBISImageReader

__all__ = ["readable_items", "item_files"]

_LOGGER = logging.getLogger(__name__)
_SUFFIXES = CBISImageReader.suffixes


def item_files(item: Mapping) -> list[str]:
    """The image files an item names: every string (or list of strings) value with a DICOM/PNG/JPEG suffix.

    Example:
        >>> item_files({"image": "a/1-1.dcm", "label": ["m1.png", "m2.png"], "pathology": "BENIGN"})
        ['a/1-1.dcm', 'm1.png', 'm2.png']
    """
    out = []
    for value in item.values():
        values = value if isinstance(value, (list, tuple)) else [value]
        out.extend(str(v) for v in values if isinstance(v, (str, os.PathLike)) and str(v).lower().endswith(_SUFFIXES))
    return out


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _cached_check(transform, cache_dir) -> Callable[[Mapping], bool] | None:
    """``item -> whether its preprocessing is already cached``, or None without a cache."""
    if transform is None or cache_dir is None:
        return None
    from .cache import cached_dataset

    dataset = cached_dataset([], transform, cache_dir)
    return lambda item: dataset.cache_path(item).is_file()


def readable_items(
    items: Sequence[Mapping],
    transform=None,
    cache_dir: str | os.PathLike | None = None,
    skip_unreadable: bool = False,
    skipped: SkippedItems | None = None,
    dataset_dir: str | None = None,
    num_workers: int = 0,
) -> list[dict]:
    """``items`` whose files all decode, in their order (see the module docstring for when and why).

    Args:
        items: datalist items; each value that names a DICOM/PNG/JPEG file is decoded (:func:`item_files`).
        transform: the dataset's transform (a ``Preset`` or a sequence of transforms) and ``cache_dir`` its cache,
            as given to :func:`~monai_cbis.transforms.cached_dataset`: an item already cached is not decoded
            again. None for either: every item is decoded.
        skip_unreadable: leave out the items with a file that does not decode (recorded in ``skipped``) instead
            of stopping.
        skipped: the run's ledger; receives one ``load`` entry (``path``, ``row``, ``reason="pixels_unreadable"``,
            ``detail``) per file left out.
        dataset_dir: the collection's folder, named in the error's ``verify`` command.
        num_workers: threads that decode (0 or 1: one).

    Returns:
        A new list of the readable items.

    Raises:
        UnreadableImageError: a file does not decode and ``skip_unreadable`` is False (one line: the file, the
            cause, how many more, what to do).
        ValueError: every item has a file that does not decode (nothing is left to run on).
    """
    items = [dict(i) for i in items]
    cached = _cached_check(transform, cache_dir)
    reader = CBISImageReader()

    def check(item: dict) -> tuple[str, str] | None:
        if cached is not None and cached(item):
            return None
        for path in item_files(item):
            try:
                reader.read(path)
            except UnreadableImageError as e:
                return path, _one_line(e)
        return None

    with ThreadPoolExecutor(max_workers=max(1, int(num_workers or 0))) as pool:
        results = list(pool.map(check, items))
    bad = [(item, r) for item, r in zip(items, results, strict=True) if r is not None]
    if bad and not skip_unreadable:
        more = f" ({len(bad) - 1} more file(s) do not decode either.)" if len(bad) > 1 else ""
        message = (
            f"{bad[0][1][1]}{more} Re-download or remove it (`python -m monai_cbis verify "
            f"{dataset_dir or 'DATASET_DIR'}` checks a whole collection), or run with --skip_unreadable true to "
            "leave such files out; they are then listed in the run's skipped*.json."
        )
        _LOGGER.error(message)
        raise UnreadableImageError(message)
    for item, (path, detail) in bad:
        entry = {"path": path, "row": item.get("csv_row"), "reason": "pixels_unreadable", "detail": detail}
        if item.get("csv_file"):
            entry["csv_file"] = item["csv_file"]
        if skipped is not None:
            skipped.add(entry, stage="load")
        _LOGGER.warning("skipped %s", detail)
    kept = [item for item, r in zip(items, results, strict=True) if r is None]
    if items and not kept:
        raise ValueError(
            f"None of the {len(items)} items has files that decode (the first: {bad[0][1][1]}); nothing to run on. "
            f"Check the data with `python -m monai_cbis verify {dataset_dir or 'DATASET_DIR'}`."
        )
    return kept
