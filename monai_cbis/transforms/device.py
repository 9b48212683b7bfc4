"""Running a preset's random augmentation on another device (a GPU), behind one switch.

A GPU trains paper A's network at 224 x 224 far faster than two CPU cores can augment the images for it
(``benchmarks/loader.py`` prints both sides). MONAI's random transforms run on CUDA tensors as well as on CPU ones,
so the cure is to move each cached image to the GPU before the augmentation, as MONAI's fast-training recipe does
(``ToDeviced`` after the cached part, then a ``ThreadDataLoader`` with ``num_workers=0``: CUDA tensors cannot be
made in forked DataLoader workers).

:class:`AugmentOnDeviced` is that move. It is MONAI's ``ToDeviced`` marked with MONAI's ``RandomizableTrait``,
the marker at which MONAI's caches (``CacheDataset``, ``PersistentDataset`` and this project's
:class:`~monai_cbis.transforms.AtomicPersistentDataset`) stop: the on-disk cache keeps CPU tensors, is shared with
the CPU path (the same fingerprint) and with validation, and never stores a device tensor. The presets put it first
in their random part when built with ``augment_device`` (``get_preset("full_mammogram", augment_device="cuda:0")``).
"""

from __future__ import annotations

import torch
import torch.distributed
from monai.config import KeysCollection
from monai.transforms import RandomizableTrait, ToDeviced

__all__ = ["AugmentOnDeviced", "rank_device"]


class AugmentOnDeviced(ToDeviced, RandomizableTrait):
    """Move ``keys`` to ``device`` for the random transforms that follow; caches stop before it (see the module).

    The array twin is MONAI's ``ToDevice``; tensors keep their type (a MetaTensor stays a MetaTensor with its
    metadata), other values (laterality strings, class indices) pass through.

    Args:
        keys: the item keys to move (missing ones are skipped when ``allow_missing_keys``).
        device: a torch device or its name (``"cuda:0"``; ``"cpu"`` builds the same pipeline on a CPU machine).
        allow_missing_keys: skip keys an item lacks.
        kwargs: passed to ``torch.Tensor.to`` (``non_blocking=True`` with pinned memory).

    Example:
        >>> from monai.data import MetaTensor
        >>> from monai.transforms import RandFlipd
        >>> from monai_cbis.transforms import AugmentOnDeviced, cache
        >>> steps = [AugmentOnDeviced(["image"], device="cpu"), RandFlipd(["image"], prob=1.0, spatial_axis=0)]
        >>> cache._deterministic_prefix(steps)  # a cache keeps nothing at or after the move
        []
        >>> out = steps[0]({"image": MetaTensor(torch.zeros(1, 4, 4)), "laterality": "LEFT"})
        >>> out["image"].device.type, type(out["image"]).__name__, out["laterality"]
        ('cpu', 'MetaTensor', 'LEFT')
    """

    def __init__(
        self, keys: KeysCollection, device: torch.device | str, allow_missing_keys: bool = False, **kwargs
    ) -> None:
        super().__init__(keys, device=torch.device(device), allow_missing_keys=allow_missing_keys, **kwargs)
        self.device = torch.device(device)
        self._placed = False

    def __call__(self, data):
        if not self._placed and torch.distributed.is_available() and torch.distributed.is_initialized():
            self.converter.device = rank_device(self.device)  # under torchrun: this rank's own GPU (see there)
            self._placed = True
        return super().__call__(data)


def rank_device(device: torch.device | str) -> torch.device:
    """``device``, except a GPU in a process of an initialised process group (``multi_gpu_train.json`` under
    ``torchrun``): that rank's own GPU (``cuda:<LOCAL_RANK>``), so that ``--augment_device cuda:0`` does not put
    every rank's augmentation on GPU 0. A bare ``cuda`` would not do: MONAI's ``ThreadDataLoader`` augments in a
    thread of its own, whose current CUDA device is GPU 0 whatever the main thread selected.

    Example:
        >>> rank_device("cpu"), rank_device("cuda:0")  # no process group here: unchanged
        (device(type='cpu'), device(type='cuda', index=0))
    """
    device = torch.device(device)
    if device.type != "cuda" or not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return device
    from ..distributed import ddp_device  # the rank's device, as the network's placement uses it

    return ddp_device()
