"""The training loader a preset's augmentation switches call for: :func:`train_loader`, and training batches
without metadata (:func:`collate_without_meta`), the collate of the fast path.

MONAI's ``list_data_collate`` stacks each item's MetaTensors and collates their metadata too (affines, spacing,
shapes and the applied operations of every key: about 30 tensors for a batch of ``full_mammogram`` items). A
DataLoader worker hands every tensor of a batch to the main process through its own shared-memory file descriptor,
and each hand-over costs the main process a socket round trip: with 2 workers at 224 x 224 the main process spent
about 2.6 ms per image receiving batches, more than the workers spent making them (``benchmarks/loader.py``).
Training needs the pixels and the labels only, so :func:`collate_without_meta` collates as MONAI does and returns
plain tensors: three tensors per batch. Validation and inference keep MONAI's collate (their metadata inverts
predictions and names files).

:func:`train_loader` is what the bundles' ``train#dataloader`` builds (families with a preset that has the switches):
MONAI's ``DataLoader`` as before by default; with ``augment_backend="opencv"`` a ``DataLoader`` with
:func:`collate_without_meta`; with ``augment_device`` MONAI's ``ThreadDataLoader`` with :func:`collate_without_meta`
and no worker process: the items are read from memory and stacked in a thread beside the training loop, and the
augmentation runs on whole batches on the device (:class:`~monai_cbis.engines.PrepareBatchAugment`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from monai.data import DataLoader, MetaTensor, ThreadDataLoader, list_data_collate

__all__ = ["collate_without_meta", "train_loader"]

logger = logging.getLogger(__name__)


def _plain(value):
    """A MetaTensor as a plain tensor, in an item, its top-level dict or a list of items (``num_samples`` crops)."""
    if isinstance(value, MetaTensor):
        return value.as_tensor()
    if isinstance(value, Mapping):
        return {k: v.as_tensor() if isinstance(v, MetaTensor) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def collate_without_meta(batch: Sequence):
    """Every MetaTensor of each item (itself, a value of its dict, or in a list of items) as a plain ``torch.Tensor``,
    then MONAI's ``list_data_collate``: stacking plain tensors skips MONAI's metadata handling (about a third of the
    collate's cost); other values (strings, class indices, nested dicts) are collated as MONAI does.

    Example:
        >>> import torch
        >>> from monai.data import MetaTensor
        >>> items = [{"image": MetaTensor(torch.zeros(1, 2, 2)), "laterality": "LEFT"} for _ in range(2)]
        >>> out = collate_without_meta(items)
        >>> type(out["image"]).__name__, tuple(out["image"].shape), out["laterality"]
        ('Tensor', (2, 1, 2, 2), ['LEFT', 'LEFT'])
    """
    return list_data_collate([_plain(item) for item in batch])


def train_loader(
    dataset,
    batch_size: int = 1,
    num_workers: int = 0,
    augment_backend: str = "monai",
    augment_device: str | None = None,
    **kwargs,
) -> DataLoader:
    """The training loader for a dataset built with a preset's ``augment_backend`` / ``augment_device``.

    Args:
        dataset, batch_size, num_workers: as for MONAI's ``DataLoader``.
        augment_backend: ``"monai"``: MONAI's ``DataLoader(dataset, batch_size, num_workers=num_workers, **kwargs)``,
            unchanged; ``"opencv"``: the same with :func:`collate_without_meta` (unless ``collate_fn`` is given).
        augment_device: not None: MONAI's ``ThreadDataLoader`` with ``num_workers=0`` (a ``num_workers`` above 0 is
            ignored, with a log line saying so: an item is only read from memory) and :func:`collate_without_meta`
            (unless ``collate_fn`` is given); the augmentation runs on the batches, on that device.
        kwargs: passed to the loader (``shuffle``, ``sampler``, ``drop_last``, ``collate_fn``, ...).

    Raises:
        ValueError: an unknown ``augment_backend``, listing the known ones.

    Example:
        >>> loader = train_loader([{"image": 0}], batch_size=1, augment_device="cpu")
        >>> type(loader).__name__, loader.collate_fn.__name__
        ('ThreadDataLoader', 'collate_without_meta')
        >>> train_loader([{"image": 0}], augment_backend="opencv").collate_fn.__name__
        'collate_without_meta'
    """
    from .presets.base import AUGMENT_BACKENDS

    if augment_backend not in AUGMENT_BACKENDS:
        raise ValueError(
            f"Unsupported augment_backend: {augment_backend!r}, available options are {list(AUGMENT_BACKENDS)}."
        )
    if augment_device is not None:
        if num_workers:
            logger.info(
                "augment_device=%s: training reads its items from memory in a thread (num_workers=%d ignored).",
                augment_device,
                num_workers,
            )
        kwargs.setdefault("collate_fn", collate_without_meta)
        return ThreadDataLoader(dataset, batch_size=batch_size, num_workers=0, **kwargs)
    if augment_backend == "opencv":
        kwargs.setdefault("collate_fn", collate_without_meta)
    return DataLoader(dataset, batch_size=batch_size, num_workers=num_workers, **kwargs)
