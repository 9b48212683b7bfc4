"""The trainer's ``prepare_batch`` that augments whole batches on the GPU: the engine side of ``augment_device``.

A preset built with ``augment_device`` (``get_preset("full_mammogram", augment_device="cuda:0")``) leaves its item
pipeline deterministic, so the loader only reads cached items and stacks them, and keeps its augmentation in
:attr:`~monai_cbis.transforms.Preset.batch` (:class:`~monai_cbis.transforms.RandBatchAugmentd`).
:class:`PrepareBatchAugment` is where that runs: MONAI's engines call ``prepare_batch`` with each batch before the
iteration; it moves the batch's tensors to the augmentation device, augments the batch there, then hands it to
MONAI's ``default_prepare_batch`` as any batch. Without an augmentation it is ``default_prepare_batch``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.distributed
from monai.engines import PrepareBatch, default_prepare_batch

from ..transforms.device import rank_device

__all__ = ["PrepareBatchAugment"]


class PrepareBatchAugment(PrepareBatch):
    """MONAI's ``default_prepare_batch`` after ``augment`` has run on the batch on ``device``.

    Args:
        augment: a transform of a collated batch dict (a preset's :attr:`~monai_cbis.transforms.Preset.batch`), or
            None: then this is ``default_prepare_batch``.
        device: where ``augment`` runs (under ``torchrun``, a GPU becomes the rank's own, as
            :func:`~monai_cbis.transforms.device.rank_device` says); None: the engine's device.
        seed: seeds ``augment``'s random state (plus the rank under ``torchrun``, so that ranks draw differently);
            None leaves it as it is.

    Raises:
        TypeError: ``augment`` with a batch that is not a dict.

    Example:
        >>> from monai_cbis.transforms import RandBatchAugmentd
        >>> flip = RandBatchAugmentd(["image", "label"], flip_prob=1.0, rotate_prob=0.0, zoom_prob=0.0,
        ...                          intensity_prob=0.0)
        >>> prepare = PrepareBatchAugment(flip, device="cpu", seed=0)
        >>> image, label = prepare({"image": torch.tensor([[[[1.0, 2.0]]]]), "label": torch.tensor([[[[1.0, 0.0]]]])})
        >>> image.flatten().tolist(), label.flatten().tolist()
        ([2.0, 1.0], [0.0, 1.0])
    """

    def __init__(
        self, augment: Callable | None = None, device: torch.device | str | None = None, seed: int | None = None
    ) -> None:
        self.augment = augment
        self.device = None if device is None else torch.device(device)
        self.seed = seed
        self._placed = False

    def _place(self) -> None:
        """At the first batch (the process group, if any, is up by then): the rank's device, the seeded state."""
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        if self.seed is not None and hasattr(self.augment, "set_random_state"):
            self.augment.set_random_state(int(self.seed) + (torch.distributed.get_rank() if distributed else 0))
        if self.device is not None:
            self.device = rank_device(self.device)
        self._placed = True

    def __call__(self, batchdata, device: torch.device | str | None = None, non_blocking: bool = False, **kwargs):
        if self.augment is None:
            return default_prepare_batch(batchdata, device, non_blocking, **kwargs)
        if not isinstance(batchdata, dict):
            raise TypeError(f"PrepareBatchAugment augments dict batches, got {type(batchdata).__name__}.")
        if not self._placed:
            self._place()
        target = self.device if self.device is not None else device
        moved = {
            k: v.to(target, non_blocking=non_blocking) if isinstance(v, torch.Tensor) and target is not None else v
            for k, v in batchdata.items()
        }
        return default_prepare_batch(self.augment(moved), device, non_blocking, **kwargs)
