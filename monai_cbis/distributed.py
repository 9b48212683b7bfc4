"""Distributed (DDP) helpers for bundle configs: device per rank, process group, rank-0-only writers.

``torchrun --nproc_per_node=N -m monai.bundle run --config_file "['.../train.json','.../multi_gpu_train.json']"``
uses NCCL with one GPU per rank when CUDA is available, and gloo on CPU otherwise (that is how the tests run it).
On several machines each node runs the same command with ``--nnodes M --node_rank I --rdzv_backend c10d
--rdzv_endpoint HOST:PORT`` instead of ``--standalone``; the process group is the same.

Example (multi_gpu_train.json)::

    "device": "$monai_cbis.distributed.ddp_device()",
    "train#trainer#train_handlers": "$monai_cbis.distributed.rank_zero_writers(@train#handlers)",
    "train#handlers#6#_disabled_": "$monai_cbis.distributed.not_rank_zero()"
"""

from __future__ import annotations

import os

import ignite.distributed as idist
import torch
import torch.distributed as dist

__all__ = [
    "ddp_device",
    "ddp_device_ids",
    "init_distributed",
    "destroy_distributed",
    "not_rank_zero",
    "rank_zero_writers",
]


def ddp_device() -> torch.device:
    """``cuda:<LOCAL_RANK>`` when CUDA is available, else ``cpu``."""
    if torch.cuda.is_available():
        return torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
    return torch.device("cpu")


def ddp_device_ids(device: torch.device) -> list[torch.device] | None:
    """``[device]`` for a GPU (what ``DistributedDataParallel`` wants), ``None`` on CPU."""
    return [device] if torch.device(device).type == "cuda" else None


def init_distributed() -> None:
    """Start the process group from torchrun's environment: NCCL on GPUs, gloo on CPU; select this rank's GPU."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise RuntimeError(
            "multi_gpu_train.json needs torchrun (RANK/WORLD_SIZE are not set): torchrun --nproc_per_node=N "
            "-m monai.bundle run --config_file \"['configs/train.json','configs/multi_gpu_train.json']\""
        )
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    if torch.cuda.is_available():
        torch.cuda.set_device(ddp_device())


def destroy_distributed() -> None:
    """Tear the process group down (a no-op when none is running), and tell Ignite so.

    Ignite's ``idist`` caches the computation model it found on first use; left alone it goes on asking the destroyed
    group for ranks, and the next engine or ``CheckpointSaver`` built in this process fails with "Default process
    group has not been initialized" (a notebook, a test session, MONAI Label's server running configs in-process).
    """
    if dist.is_initialized():
        dist.destroy_process_group()
    idist.sync()


def not_rank_zero() -> bool:
    """True in every process but the global rank 0 (the process group's rank, else torchrun's ``RANK``).

    ``multi_gpu_train.json`` sets ``"_disabled_": "$monai_cbis.distributed.not_rank_zero()"`` on the handlers that
    create files when they are built (TensorBoard's), so that other ranks never construct them.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() != 0
    return int(os.environ.get("RANK", "0")) != 0


def _writer_types() -> tuple[type, ...]:
    from monai.handlers import (
        CheckpointSaver,
        ClassificationSaver,
        MetricsSaver,
        StatsHandler,
        TensorBoardImageHandler,
        TensorBoardStatsHandler,
    )

    return (CheckpointSaver, ClassificationSaver, MetricsSaver, StatsHandler, TensorBoardStatsHandler,
            TensorBoardImageHandler)  # fmt: skip


def rank_zero_writers(handlers: list) -> list:
    """``handlers`` without the ones that write files or logs on ranks other than 0.

    Handlers that change training (validation, LR schedule, early stopping, resuming) stay on every rank, so all
    ranks step, stop and resume together; savers and loggers run on rank 0 only. A handler that gathers from every
    rank before rank 0 writes (``requires_all_ranks = True``: the ``monai_cbis.evaluation`` reports, MONAI's
    ``MetricsSaver`` and ``ClassificationSaver``) stays on every rank, or rank 0 would wait for ranks that never
    join the gather.
    """
    if not dist.is_initialized() or dist.get_rank() == 0:
        return list(handlers)
    writers = _writer_types()
    return [h for h in handlers if _gathers(h) or not isinstance(h, writers)]


def _gathers(handler) -> bool:
    from monai.handlers import ClassificationSaver, MetricsSaver

    return bool(getattr(handler, "requires_all_ranks", False)) or isinstance(
        handler, (MetricsSaver, ClassificationSaver)
    )
