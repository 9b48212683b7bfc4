"""multi_gpu_train.json under torchrun with 2 CPU processes (gloo): trains, and only rank 0 writes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from monai_cbis.data import make_synthetic_cbis

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def torchrun(tmp_path, bundle: str, data_root: str, *extra: str) -> subprocess.CompletedProcess:
    configs = os.path.join(REPO, "bundles", bundle, "configs")
    root = tmp_path / "bundle"
    config = f"['{configs}/train.json','{configs}/multi_gpu_train.json']"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc_per_node=2",
           "-m", "monai.bundle", "run", "--config_file", config, "--meta_file", f"{configs}/metadata.json",
           "--bundle_root", str(root), "--dataset_dir", data_root, "--cache_dir", str(tmp_path / "cache"),
           "--image_size", "[64, 64]", "--batch_size", "2", "--num_workers", "0", "--val_frac", "0.4",
           *extra]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def test_torchrun_two_cpu_processes(tmp_path):
    data = make_synthetic_cbis(tmp_path / "cbis", layout="nbia", cases=14, seed=5)
    proc = torchrun(tmp_path, "unet_effb3", data.root, "--epochs", "2")
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    root = tmp_path / "bundle"
    models = sorted(os.listdir(root / "models"))
    assert "model.pt" in models and "checkpoint_epoch=2.pt" in models
    # only rank 0 logs. TensorBoard handlers open their event file when built (on every rank, as in the model
    # zoo's configs), but only rank 0's files (events.out.tfevents.<time>.<host>.<pid>.<n>) receive scalars.
    written: dict[str, int] = {}
    for n in os.listdir(root / "eval"):
        if n.startswith("events.out.tfevents"):
            pid = n.split(".")[5]
            written[pid] = written.get(pid, 0) + os.path.getsize(root / "eval" / n)
    assert len(written) == 2 and sorted(written.values())[0] < 200 < sorted(written.values())[1], written


@pytest.mark.parametrize("class_balance", ["sampler", "loss_weights"])
def test_torchrun_classifier_with_a_distributed_balanced_sampler(tmp_path, class_balance):
    """The weighted sampler becomes MONAI's DistributedWeightedRandomSampler; loss weights keep a plain one."""
    data = make_synthetic_cbis(tmp_path / "cbis", layout="classic", cases=12, seed=5)
    proc = torchrun(tmp_path, "mobilenetv2_classification", data.root, "--epochs", "1",
                    "--class_balance", class_balance)  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "checkpoint_epoch=1.pt" in os.listdir(tmp_path / "bundle" / "models")
