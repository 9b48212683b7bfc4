"""Two "nodes" of one process each (two torchrun agents, c10d rendezvous on 127.0.0.1, gloo): disjoint shards,
identical weights, rank 0 alone writes, and ``--resume true`` loads the checkpoint on both ranks.

Each node gets its own bundle folder (as two machines without a shared disk would), so a file in the folder of the
node that does not hold global rank 0 can only come from rank 1. c10d assigns global ranks in arrival order (it does
not follow ``--node_rank``), so the test reads from the probe which node held rank 0. For the resume the writing
node's ``models/`` is copied to the other node first, as the bundle READMEs tell users without a shared disk.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
import torch
from ddp_probe import probe_config
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HELPERS = os.path.join(REPO, "tests", "bundles")  # ddp_probe, imported by the torchrun processes
BUNDLE = "unet_roi"  # the cheapest bundle: a small U-Net on lesion crops


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _files(folder) -> dict[str, int]:
    """relative path -> mtime_ns of every file under ``folder``."""
    out = {}
    for dirpath, _, names in os.walk(folder):
        for n in names:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, folder)] = os.stat(p).st_mtime_ns
    return out


def _two_nodes(work, data_root: str, probe_dir, *extra: str) -> list[subprocess.CompletedProcess]:
    configs = os.path.join(REPO, "bundles", BUNDLE, "configs")
    layer = work / "probe.json"
    layer.write_text(json.dumps(probe_config(str(probe_dir))))
    config = f"['{configs}/train.json','{configs}/multi_gpu_train.json','{layer}']"
    port = _free_port()
    procs = []
    for node in (0, 1):
        root = work / f"node{node}"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--node_rank", str(node),
               "--nproc_per_node", "1", "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}",
               "--rdzv_id", f"cbis-{port}", "--max_restarts", "0",
               "-m", "monai.bundle", "run", "--config_file", config, "--meta_file", f"{configs}/metadata.json",
               "--bundle_root", str(root / "bundle"), "--dataset_dir", data_root, "--cache_dir", str(root / "cache"),
               "--image_size", "[32, 32]", "--margin", "8", "--batch_size", "2", "--num_workers", "0",
               "--val_frac", "0.3", *extra]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "PROBE_NODE": str(node),
               "PYTHONPATH": os.pathsep.join([HELPERS, os.environ.get("PYTHONPATH", "")])}  # fmt: skip
        out = open(work / f"node{node}-{port}.log", "w+", encoding="utf-8")  # noqa: SIM115 (closed below)
        procs.append((subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, text=True), out))
    done = []
    for p, out in procs:
        try:
            p.wait(timeout=600)
        finally:
            if p.poll() is None:
                p.kill()
        out.seek(0)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out.read(), ""))
        out.close()
    return done


def _probe(probe_dir) -> dict[int, dict]:
    return {r: json.loads((probe_dir / f"rank{r}.json").read_text()) for r in (0, 1)}


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _state(probe_dir, rank: int, when: str) -> dict:
    return torch.load(probe_dir / f"rank{rank}_{when}.pt", weights_only=True)


@pytest.fixture(scope="module")
def first_run(request, tmp_path_factory):
    work = scratch_dir(request, tmp_path_factory, "multinode")
    data = make_synthetic_cbis(work / "cbis", layout="classic", cases=10, seed=3, image_size=(256, 160))
    procs = _two_nodes(work, data.root, work / "probe1", "--epochs", "1")
    for p in procs:
        assert p.returncode == 0, p.stdout[-4000:]
    return work, data, procs


def test_each_rank_trains_on_its_own_shard_and_the_weights_stay_identical(first_run):
    work, _, _ = first_run
    probe = _probe(work / "probe1")
    assert {probe[0]["node"], probe[1]["node"]} == {"0", "1"}  # one rank on each node
    dataset = probe[0]["dataset"]
    assert dataset == probe[1]["dataset"] and len(set(dataset)) == len(dataset) >= 4
    pad = (-len(dataset)) % 2  # DistributedSampler(even_divisible=True) repeats this many items
    seen0, seen1 = probe[0]["epochs"]["1"], probe[1]["epochs"]["1"]
    assert len(seen0) == len(seen1) == (len(dataset) + pad) // 2
    assert len(set(seen0) & set(seen1)) <= pad, (seen0, seen1)
    assert set(seen0) | set(seen1) == set(dataset)
    start0, end0, end1 = (_state(work / "probe1", r, w) for r, w in ((0, "start"), (0, "end"), (1, "end")))
    assert _same_weights(start0, _state(work / "probe1", 1, "start"))
    assert _same_weights(end0, end1)  # DDP kept the replicas identical through every step
    assert not _same_weights(start0, end0)  # and they did train


def test_rank_zero_alone_writes(first_run):
    work, _, procs = first_run
    probe = _probe(work / "probe1")
    writer, other = int(probe[0]["node"]), int(probe[1]["node"])
    written = _files(work / f"node{writer}" / "bundle")
    assert {"models/model.pt", "models/checkpoint_epoch=1.pt", "eval/history.csv"} <= set(written), sorted(written)
    events = [f for f in written if os.path.basename(f).startswith("events.out.tfevents")]
    assert events and all(f".{probe[0]['pid']}." in f for f in events), events  # TensorBoard: rank 0's only
    assert _files(work / f"node{other}" / "bundle") == {}  # no checkpoint, log, report or event file from rank 1
    assert "Epoch[1] Metrics" in procs[writer].stdout and "Epoch[1] Metrics" not in procs[other].stdout


def test_resume_loads_the_checkpoint_on_both_ranks(first_run):
    work, data, _ = first_run
    first = _probe(work / "probe1")
    writer = int(first[0]["node"])
    for node in (0, 1):  # without a shared disk, every node needs the checkpoints
        if node != writer:
            shutil.copytree(work / f"node{writer}" / "bundle" / "models", work / f"node{node}" / "bundle" / "models")
    before = {n: _files(work / f"node{n}" / "bundle") for n in (0, 1)}
    saved = torch.load(work / f"node{writer}" / "bundle" / "models" / "checkpoint_epoch=1.pt", map_location="cpu")
    procs = _two_nodes(work, data.root, work / "probe2", "--epochs", "2", "--resume", "true")
    for p in procs:
        assert p.returncode == 0, p.stdout[-4000:]
    probe = _probe(work / "probe2")
    assert probe[0]["start_epoch"] == probe[1]["start_epoch"] == 1  # both ranks continued after epoch 1
    assert list(probe[0]["epochs"]) == list(probe[1]["epochs"]) == ["2"]
    for rank in (0, 1):  # each rank started from the checkpoint's weights, not from a fresh network
        assert _same_weights(_state(work / "probe2", rank, "start"), saved["model"])
        assert _same_weights(_state(work / "probe1", rank, "end"), saved["model"])
    after_writer = int(probe[0]["node"])
    other = 1 - after_writer
    assert _files(work / f"node{other}" / "bundle") == before[other]  # rank 1 wrote nothing this time either
    assert "models/checkpoint_epoch=2.pt" in _files(work / f"node{after_writer}" / "bundle")


@pytest.mark.parametrize("bundle", sorted(os.listdir(os.path.join(REPO, "bundles"))))
def test_every_readme_shows_the_multi_node_command(bundle):
    text = open(os.path.join(REPO, "bundles", bundle, "docs", "README.md"), encoding="utf-8").read()
    config = f"'bundles/{bundle}/configs/multi_gpu_train.json'"
    for node in (0, 1):
        command = re.search(rf"torchrun --nnodes 2 --node_rank {node} (.*?)\n(?!\s)", text, re.S)
        assert command is not None, f"{bundle}: no torchrun command for node {node}"
        for part in ("--nproc_per_node", "--rdzv_backend c10d", "--rdzv_endpoint HOST:PORT", config):
            assert part in command.group(1), (bundle, node, part)
