"""multi_gpu_train.json: every bundle's parses and has the training properties; the classification family trains
under torchrun with 2 CPU processes (gloo) with identical weights on both ranks and a shard each.

The segmentation family's DDP run is ``test_multinode.py`` (two torchrun agents, rank-0-only writing, resume).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
from bundle_workflow import config_workflow
from ddp_probe import probe_config
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis
from monai_cbis.distributed import destroy_distributed

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HELPERS = os.path.join(REPO, "tests", "bundles")  # ddp_probe, imported by the torchrun processes
BUNDLES = sorted(n for n in os.listdir(os.path.join(REPO, "bundles")) if not n.startswith("."))


def torchrun(tmp_path, bundle: str, data_root: str, *extra: str) -> subprocess.CompletedProcess:
    configs = os.path.join(REPO, "bundles", bundle, "configs")
    root = tmp_path / "bundle"
    layer = tmp_path / "probe.json"
    layer.write_text(json.dumps(probe_config(str(tmp_path / "probe"))))
    config = f"['{configs}/train.json','{configs}/multi_gpu_train.json','{layer}']"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc_per_node=2",
           "-m", "monai.bundle", "run", "--config_file", config, "--meta_file", f"{configs}/metadata.json",
           "--bundle_root", str(root), "--dataset_dir", data_root, "--cache_dir", str(tmp_path / "cache"),
           "--image_size", "[32, 32]", "--batch_size", "2", "--num_workers", "0", "--val_frac", "0.4",
           *extra]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join([HELPERS, os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def one_rank_group():
    """A gloo process group of one rank in this process, as torchrun would start it (DDP needs one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    yield
    destroy_distributed()  # also resets Ignite's cached model: later tests in this worker are serial again
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def collection(request, tmp_path_factory):
    return make_synthetic_cbis(scratch_dir(request, tmp_path_factory, "cbis"), layout="classic", cases=8, seed=2)


@pytest.mark.parametrize("bundle", BUNDLES)
def test_every_multi_gpu_config_builds_its_training_properties(bundle, one_rank_group, collection, tmp_path):
    """All 8 multi_gpu_train.json files: parsed over train.json, every required property resolves (network in DDP,
    distributed samplers, rank-filtered handlers), without running a step (two bundles run below / in
    test_multinode.py)."""
    configs = os.path.join(REPO, "bundles", bundle, "configs")
    wf = config_workflow(
        [f"{configs}/train.json", f"{configs}/multi_gpu_train.json"],
        f"{configs}/metadata.json",
        "train",
        bundle_root=str(tmp_path),
        dataset_dir=collection.root,
        cache_dir=str(tmp_path / "cache"),
        image_size=[32, 32],
        batch_size=2,  # the tiny collection must still give a batch: an empty train loader is an error
    )
    wf.initialize()  # init_distributed() finds the group already running
    assert wf.check_properties() == []
    assert isinstance(wf.parser.get_parsed_content("network"), torch.nn.parallel.DistributedDataParallel)
    sampler = wf.parser.get_parsed_content("train#dataloader").sampler
    assert "Distributed" in type(sampler).__name__, type(sampler)
    assert wf.parser.get_parsed_content("validate#dataloader").sampler.__class__.__name__ == "DistributedSampler"


@pytest.mark.parametrize("class_balance", ["sampler", "loss_weights"])
def test_torchrun_classifier_keeps_ranks_identical_on_their_own_shards(tmp_path, class_balance):
    """The weighted sampler becomes MONAI's DistributedWeightedRandomSampler; loss weights keep a plain one. Either
    way each rank draws from its own shard and DDP keeps the two replicas equal through every step."""
    data = make_synthetic_cbis(tmp_path / "cbis", layout="classic", cases=12, seed=5)
    proc = torchrun(tmp_path, "mobilenetv2_classification", data.root, "--epochs", "1",
                    "--class_balance", class_balance)  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "checkpoint_epoch=1.pt" in os.listdir(tmp_path / "bundle" / "models")
    probe = {r: json.loads((tmp_path / "probe" / f"rank{r}.json").read_text()) for r in (0, 1)}
    dataset = probe[0]["dataset"]
    pad = (-len(dataset)) % 2  # DistributedSampler pads with repeated items
    shared_films = len(dataset) - len(set(dataset))  # items are named by film here: two lesions share a name
    seen0, seen1 = probe[0]["epochs"]["1"], probe[1]["epochs"]["1"]
    assert len(seen0) == len(seen1) >= 2
    assert len(set(seen0) & set(seen1)) <= pad + shared_films, (seen0, seen1)
    assert set(seen0) | set(seen1) <= set(dataset)
    state = {(r, w): torch.load(tmp_path / "probe" / f"rank{r}_{w}.pt") for r in (0, 1) for w in ("start", "end")}
    for key, value in state[0, "end"].items():
        assert torch.equal(value, state[1, "end"][key]), key
    assert any(not torch.equal(v, state[0, "start"][k]) for k, v in state[0, "end"].items())
