"""rank_device: a GPU setting means this rank's own GPU under torchrun, and is left as it is otherwise."""

from __future__ import annotations

import torch

from monai_cbis.transforms.device import rank_device


def test_under_torchrun_a_gpu_means_this_ranks_own_gpu(monkeypatch):
    assert rank_device("cuda:0") == torch.device("cuda:0")  # no process group: as given
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert rank_device("cuda:0") == torch.device("cuda:1") and rank_device("cpu") == torch.device("cpu")
