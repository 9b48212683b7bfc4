"""The device a GPU setting means in this process: under ``torchrun``, the rank's own GPU.

``--augment_device cuda:0`` names a GPU as a single-GPU run would. Under ``torchrun`` (``multi_gpu_train.json``)
every rank would then augment on GPU 0; :func:`rank_device` turns it into the rank's own GPU, as the network's
placement does. :class:`~monai_cbis.engines.PrepareBatchAugment` resolves its device with it at the first batch.
"""

from __future__ import annotations

import torch
import torch.distributed

__all__ = ["rank_device"]


def rank_device(device: torch.device | str) -> torch.device:
    """``device``, except a GPU in a process of an initialised process group (``multi_gpu_train.json`` under
    ``torchrun``): that rank's own GPU (``cuda:<LOCAL_RANK>``), so that ``--augment_device cuda:0`` does not put
    every rank's augmentation on GPU 0.

    Example:
        >>> rank_device("cpu"), rank_device("cuda:0")  # no process group here: unchanged
        (device(type='cpu'), device(type='cuda', index=0))
    """
    device = torch.device(device)
    if device.type != "cuda" or not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return device
    from ..distributed import ddp_device  # the rank's device, as the network's placement uses it

    return ddp_device()
