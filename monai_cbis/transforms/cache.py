"""Compute the deterministic preprocessing once per image and reuse it across epochs and runs.

:class:`AtomicPersistentDataset` is MONAI's ``PersistentDataset`` (cache everything before the first random
transform, one ``.pt`` file per item) with four fixes that matter for this project, each tested:

* **Metadata survives the cache.** MONAI's default ``track_meta=False`` drops the MetaTensor metadata (no inverse,
  no spacing); with ``track_meta=True`` its ``torch.load(weights_only=True)`` refuses the numpy arrays that readers
  put in the metadata, reports "corrupt cache file", deletes it and recomputes on *every* access: the cache silently
  never hits. Here the cached item is converted to types ``weights_only`` accepts (numpy -> tensors, numpy scalars
  -> Python numbers) before it is both returned and saved, so epoch 1 and later epochs see the same item.
* **Parameters are part of the key.** The key is ``<transform fingerprint>-<item fingerprint>.pt``. The transform
  fingerprint hashes the class and every attribute of each deterministic transform (nested objects included),
  plus the versions of this package, MONAI and OpenCV: change ``image_size`` or ``clip_limit`` and new entries are
  computed. (MONAI's ``hash_transform=json_hashing`` falls back to the transforms' *names*, which ignores
  parameters.) The item fingerprint hashes the item and the size and modification time of every file it names, so
  a replaced DICOM is recomputed too.
* **A killed run never leaves a corrupt entry.** MONAI writes to a system temporary directory and then
  ``shutil.move``s the file; when that directory is on another file system the move is a copy, and a kill during
  it leaves a truncated ``.pt`` under the final name, which its loader then fails on with a RuntimeError it
  re-raises. Here the entry is written to a temporary file in the cache directory itself, fsync'ed and renamed
  with ``os.replace`` (atomic on POSIX): readers see the old state or the complete file. A leftover temporary file
  is never read (and is removed after a day); any entry that still fails to load is reported, deleted and
  recomputed instead of stopping training.
* **Several DataLoader workers** may compute the same item at once: each writes its own temporary file and the
  last rename wins with identical content; nobody ever reads a partial file.

Example:
    >>> from monai.data import DataLoader
    >>> from monai_cbis.transforms import cached_dataset, full_mammogram_transforms
    >>> ds = cached_dataset(datalist["training"], full_mammogram_transforms(224), "/data/cache")  # doctest: +SKIP
    >>> loader = DataLoader(ds, batch_size=8, num_workers=4)  # doctest: +SKIP
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from copy import deepcopy
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from monai.data import CacheDataset, MetaTensor, PersistentDataset
from monai.data.utils import pickle_hashing
from monai.transforms import Compose, RandomizableTrait, Transform

from ..atomic import atomic_write
from .opencv_augment import RandOpenCVAugmentd
from .presets import Preset

__all__ = [
    "AtomicPersistentDataset",
    "cached_dataset",
    "memory_cached_dataset",
    "transform_fingerprint",
    "item_fingerprint",
    "CACHE_FORMAT",
]

CACHE_FORMAT = 1  # bump when the stored layout changes
_STALE_TMP_SECONDS = 24 * 3600


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _qualname(obj) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _describe(obj, depth: int = 0, seen: frozenset = frozenset()):
    """A JSON-able, address-free description of ``obj`` (stable across processes and hash seeds)."""
    if depth > 12:
        return "<deep>"
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, threading.local):  # per-thread state (MONAI's tracing flag): not a setting
        return "<thread-local>"
    if isinstance(obj, float):
        return repr(obj)
    if isinstance(obj, enum.Enum):
        return f"{type(obj).__name__}.{obj.name}"
    if isinstance(obj, (np.generic,)):
        return _describe(obj.item(), depth + 1, seen)
    if isinstance(obj, (np.ndarray, torch.Tensor)):
        arr = obj.detach().cpu().numpy() if isinstance(obj, torch.Tensor) else obj
        return {"array": str(arr.dtype), "shape": list(arr.shape), "sha1": hashlib.sha1(arr.tobytes()).hexdigest()}
    if isinstance(obj, (bytes, bytearray)):
        return hashlib.sha1(bytes(obj)).hexdigest()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (list, tuple)):
        return [_describe(v, depth + 1, seen) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((_describe(v, depth + 1, seen) for v in obj), key=lambda x: json.dumps(x, sort_keys=True))
    if isinstance(obj, Mapping):
        return {str(k): _describe(v, depth + 1, seen) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, functools.partial):
        return {"partial": _describe(obj.func, depth + 1, seen), "args": _describe(obj.args, depth + 1, seen)}
    if isinstance(obj, type) or callable(obj) and not hasattr(obj, "__dict__"):
        return _qualname(obj)
    if id(obj) in seen:
        return "<cycle>"
    state = getattr(obj, "__dict__", None)
    if state is None:
        return type(obj).__qualname__
    if hasattr(obj, "__code__"):  # a Python function: its name (code changes are not tracked)
        return _qualname(obj)
    inner = seen | {id(obj)}
    keep = {k: v for k, v in state.items() if k != "_tracing"}
    return {"class": _qualname(type(obj)), "state": _describe(keep, depth + 1, inner)}


def _deterministic_prefix(transform) -> list:
    """The transforms ``PersistentDataset`` caches: up to the first random (or non-MONAI) one."""
    flat = transform.flatten().transforms if isinstance(transform, Compose) else Compose(transform).flatten().transforms
    out = []
    for t in flat:
        if isinstance(t, RandomizableTrait) or not isinstance(t, Transform):
            break
        out.append(t)
    return out


def transform_fingerprint(transform) -> str:
    """A short hash of the deterministic prefix of ``transform`` (classes and all their settings) and of the
    versions of monai-cbis, MONAI and OpenCV; equal settings give equal fingerprints in any process."""
    desc = {
        "format": CACHE_FORMAT,
        "versions": [_version("monai-cbis"), _version("monai"), _version("opencv-python-headless")],
        "transforms": [_describe(t) for t in _deterministic_prefix(transform)],
    }
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()[:16]


def _files_in(value) -> list[str]:
    if isinstance(value, (str, os.PathLike)):
        return [str(value)] if os.path.isfile(value) else []
    if isinstance(value, (list, tuple)):
        return [f for v in value for f in _files_in(v)]
    return []


def item_fingerprint(item) -> bytes:
    """``PersistentDataset`` hash function: the item (MONAI's ``pickle_hashing``) plus the size and modification time
    of every file it names, so a file replaced at the same path invalidates its entry."""
    stats = []
    if isinstance(item, Mapping):
        for key in sorted(item, key=str):
            for f in _files_in(item[key]):
                st = os.stat(f)
                stats.append((str(key), f, st.st_size, st.st_mtime_ns))
    else:
        for f in _files_in(item):
            st = os.stat(f)
            stats.append(("", f, st.st_size, st.st_mtime_ns))
    h = hashlib.sha256(pickle_hashing(item))
    h.update(repr(stats).encode())
    return h.hexdigest().encode()


def _safe(obj):
    """Convert to types ``torch.load(weights_only=True)`` accepts; MetaTensors are fixed in place."""
    if isinstance(obj, MetaTensor):
        obj.meta = _safe(dict(obj.meta))
        obj.applied_operations = _safe(list(obj.applied_operations))
        return obj
    if isinstance(obj, enum.Enum):  # MONAI's TraceKeys etc. are str enums: store the plain value
        return obj.value if isinstance(obj.value, (str, int, float)) else str(obj.value)
    if obj is None or isinstance(obj, (bool, torch.Tensor)):
        return obj
    for base in (str, int, float):  # plain types, not subclasses such as numpy's float64
        if isinstance(obj, base):
            return base(obj)
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(obj)) if obj.dtype.kind in "biuf" else obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        return {_safe(k): _safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_safe(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_safe(v) for v in obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


class AtomicPersistentDataset(PersistentDataset):
    """``monai.data.PersistentDataset`` with metadata kept, parameter-aware keys and atomic writes (see the module
    docstring for what differs and why).

    Args:
        data: the items (datalist entries).
        transform: deterministic transforms followed by random ones (a ``Compose`` or sequence); everything before
            the first random transform is cached.
        cache_dir: where entries live (created if missing); None disables caching.
        kwargs: passed to ``PersistentDataset`` (``pickle_protocol``, ``reset_ops_id``); ``hash_func``,
            ``hash_transform``, ``track_meta`` and ``weights_only`` are fixed here.

    Example:
        >>> ds = AtomicPersistentDataset(items, preset.train(), cache_dir="/data/cache")  # doctest: +SKIP
        >>> ds[0]["image"].applied_operations  # cached item, still invertible  # doctest: +SKIP
    """

    def __init__(
        self, data: Sequence, transform: Sequence[Callable] | Callable, cache_dir: Path | str | None, **kwargs
    ) -> None:
        for fixed in ("hash_func", "hash_transform", "track_meta", "weights_only"):
            if fixed in kwargs:
                raise TypeError(f"AtomicPersistentDataset sets {fixed!r} itself; remove it from the arguments.")
        super().__init__(
            data, transform, cache_dir, hash_func=item_fingerprint, track_meta=True, weights_only=True, **kwargs
        )
        self.transform_hash = transform_fingerprint(self.transform)
        self.computed = 0  # items computed (not read from the cache) by this process
        if self.cache_dir is not None:
            self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        now = time.time()
        for tmp in self.cache_dir.glob(".*.tmp"):
            try:
                if now - tmp.stat().st_mtime > _STALE_TMP_SECONDS:
                    tmp.unlink()
            except OSError:  # another process removed or renamed it
                pass

    def cache_path(self, item) -> Path | None:
        """The entry file of ``item`` (whether or not it exists yet)."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{self.transform_hash}-{self.hash_func(item).decode()}.pt"

    def _cachecheck(self, item_transformed):
        path = self.cache_path(item_transformed)
        if path is not None and path.is_file():
            try:
                return torch.load(path, weights_only=True)
            except Exception as e:  # truncated, corrupt, or written by an incompatible version: recompute
                warnings.warn(
                    f"Unreadable cache entry {path} ({type(e).__name__}: {e}); deleting and recomputing it.",
                    stacklevel=2,
                )
                path.unlink(missing_ok=True)
        out = _safe(self._pre_transform(deepcopy(item_transformed)))
        self.computed += 1
        if path is not None:
            try:
                atomic_write(path, lambda f: torch.save(out, f, pickle_protocol=self.pickle_protocol), mode="wb")
            except OSError as e:  # full disk, read-only cache: train on, uncached
                warnings.warn(
                    f"Cannot write cache entry {path} ({type(e).__name__}: {e}); continuing without it.", stacklevel=2
                )
        return out


def cached_dataset(
    data: Sequence,
    transform: Preset | Sequence[Callable] | Callable,
    cache_dir: Path | str | None,
    in_memory: bool = False,
    **kwargs,
) -> AtomicPersistentDataset | CacheDataset:
    """An :class:`AtomicPersistentDataset` for a preset (its ``train()`` pipeline) or any transform sequence; with
    ``in_memory`` the same cache held in memory (:func:`memory_cached_dataset`).

    Example:
        >>> ds = cached_dataset(items, roi_crop_transforms(512), "cache/roi512")  # doctest: +SKIP
    """
    pipeline = transform.train() if isinstance(transform, Preset) else transform
    if in_memory:
        return memory_cached_dataset(data, pipeline, cache_dir, **kwargs)
    return AtomicPersistentDataset(data, pipeline, cache_dir, **kwargs)


def memory_cached_dataset(
    data: Sequence,
    transform: Preset | Sequence[Callable] | Callable,
    cache_dir: Path | str | None,
    cache_rate: float = 1.0,
    num_workers: int | None = 1,
    progress: bool = False,
    **kwargs,
) -> CacheDataset:
    """The deterministic part of every item held in memory: MONAI's ``CacheDataset`` filled from the on-disk
    :class:`AtomicPersistentDataset` (entries computed and written there if missing, so the disk cache stays shared
    with validation and later runs), then only the random part runs per item.

    Reading an entry from disk (``torch.load`` of a MetaTensor with its metadata) costs about 4.7 ms per 224-pixel
    image on this project's 2-core machine when nothing else runs (7-12 ms beside other jobs), more than the whole
    OpenCV augmentation; from memory it is free. The price is memory: the deterministic items of ``data``
    (``cache_rate`` of them), e.g. about 0.6 MB per
    ``full_mammogram`` item at 224 (image, label and index map in float32) and 2 MB per ``roi_crop`` item at 512,
    held in the parent and shared with forked DataLoader workers (pages are copied only where written).

    When the random part is only :class:`~monai_cbis.transforms.RandOpenCVAugmentd` (which never writes into its
    input) or empty (a preset built with ``augment_device``: the batch is augmented after the collate has copied
    the items into new tensors), items are handed out without the defensive deep copy (``copy_cache=False``: about
    2 ms saved per item); any other random part gets MONAI's copy. So with an empty random part, use a loader that
    collates (a ``batch_size``, not ``None``): the dataset hands out the held item itself.

    Args:
        data, transform, cache_dir: as for :func:`cached_dataset`.
        cache_rate, num_workers, progress: MONAI's ``CacheDataset`` arguments (threads that fill the cache).
        kwargs: passed to ``CacheDataset``.

    Example:
        >>> preset = get_preset("full_mammogram", image_size=224, augment_backend="opencv")  # doctest: +SKIP
        >>> ds = memory_cached_dataset(items, preset, "/data/cache")  # doctest: +SKIP
        >>> DataLoader(ds, batch_size=8, num_workers=2)  # doctest: +SKIP
    """
    pipeline = transform.train() if isinstance(transform, Preset) else transform
    flat = pipeline.flatten().transforms if isinstance(pipeline, Compose) else Compose(pipeline).flatten().transforms
    prefix = _deterministic_prefix(flat)
    rest = list(flat[len(prefix) :])
    on_disk = AtomicPersistentDataset(data, Compose(prefix), cache_dir)
    never_writes = all(isinstance(t, RandOpenCVAugmentd) for t in rest)
    kwargs.setdefault("copy_cache", not never_writes)
    return CacheDataset(
        on_disk, Compose(rest), cache_rate=cache_rate, num_workers=num_workers, progress=progress, **kwargs
    )
