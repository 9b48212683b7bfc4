"""monai_cbis.distributed: under DDP only rank 0 writes, but handlers that gather from every rank stay."""

from __future__ import annotations

import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_rank_zero_writers_keeps_gathering_handlers_on_every_rank(monkeypatch):
    from monai.handlers import StatsHandler, ValidationHandler

    from monai_cbis import distributed
    from monai_cbis.evaluation import SegmentationReportHandler

    stats, report = StatsHandler(), SegmentationReportHandler("/tmp/unused", num_overlays=0)
    validation = ValidationHandler(interval=1)
    handlers = [validation, stats, report]
    assert distributed.rank_zero_writers(handlers) == handlers  # no process group: everything kept
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(distributed.dist, "get_rank", lambda: 1)
    assert distributed.rank_zero_writers(handlers) == [validation, report]  # the report gathers from every rank


def test_not_rank_zero_reads_the_process_group_else_torchrun_rank(monkeypatch):
    from monai_cbis import distributed

    monkeypatch.delenv("RANK", raising=False)
    assert distributed.not_rank_zero() is False
    monkeypatch.setenv("RANK", "1")
    assert distributed.not_rank_zero() is True  # before the process group starts
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(distributed.dist, "get_rank", lambda: 0)
    assert distributed.not_rank_zero() is False  # the group's rank wins over the environment


def _tensorboard_files(folder) -> list[str]:
    return [n for _, _, names in os.walk(folder) for n in names if n.startswith("events.out.tfevents")]


@pytest.mark.parametrize("rank", ["0", "1"])
def test_tensorboard_handlers_are_never_built_on_other_ranks(tmp_path, monkeypatch, rank):
    """A SummaryWriter opens its event file when built: on rank 1 the DDP config must not build it at all."""
    from monai.bundle import ConfigParser
    from monai.handlers import TensorBoardStatsHandler

    monkeypatch.setenv("RANK", rank)
    configs = os.path.join(REPO, "bundles", "unet_roi", "configs")
    parser = ConfigParser()
    parser.read_config([f"{configs}/train.json", f"{configs}/multi_gpu_train.json"])
    parser["bundle_root"] = str(tmp_path)
    tensorboard = [
        f"{section}#handlers#{i}"
        for section in ("train", "validate")
        for i, h in enumerate(parser[f"{section}#handlers"])
        if isinstance(h, dict) and h.get("_target_") == "TensorBoardStatsHandler"
    ]
    assert len(tensorboard) == 2
    built = [parser.get_parsed_content(i) for i in tensorboard]
    if rank == "1":
        assert built == [None, None] and _tensorboard_files(tmp_path) == []
    else:
        assert all(isinstance(h, TensorBoardStatsHandler) for h in built) and len(_tensorboard_files(tmp_path)) == 2
        for h in built:
            h.close()


def test_destroy_distributed_leaves_ignite_serial_again(tmp_path):
    """After a one-rank group is torn down, Ignite must not go on asking it for ranks: a CheckpointSaver built next
    in the same process (a test session, a notebook, MONAI Label) failed with "Default process group has not been
    initialized"."""
    import socket

    import ignite.distributed as idist
    import torch
    import torch.distributed as dist
    from monai.handlers import CheckpointSaver

    from monai_cbis.distributed import destroy_distributed

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    try:
        assert idist.get_world_size() == 1 and idist.backend() == "gloo"  # Ignite now caches the native model
    finally:
        destroy_distributed()
    assert idist.backend() is None and idist.get_rank() == 0
    CheckpointSaver(save_dir=str(tmp_path), save_dict={"x": torch.nn.Linear(1, 1)}, save_key_metric=True)
