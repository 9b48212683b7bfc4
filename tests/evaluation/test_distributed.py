"""The report handlers under DDP: 2 gloo processes on the CPU; rows gathered from both ranks, rank 0 writes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from scratch import scratch_dir

from monai_cbis.evaluation import read_csv

WORKER = os.path.join(os.path.dirname(__file__), "ddp_worker.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


pytestmark = pytest.mark.slow  # spawns two Python processes (about 15 s on 2 cores)


@pytest.fixture(scope="module")
def ddp_out(request, tmp_path_factory):
    out = scratch_dir(request, tmp_path_factory, "ddp")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, WORKER, str(out), str(free_port())], capture_output=True, text=True, timeout=180, env=env
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert sorted(p.name for p in out.glob("rank*.done")) == ["rank0.done", "rank1.done"]
    return out


def test_segmentation_rows_from_both_ranks_once(ddp_out):
    m = json.loads((ddp_out / "seg" / "metrics.json").read_text())
    rows = read_csv(ddp_out / "seg" / "per_image.csv")
    assert [r["case"] for r in rows] == ["a", "b", "c", "d"]  # the padded repeat of c is kept once
    assert [float(r["lesion_dice"]) for r in rows] == pytest.approx([1.0, 0.5, 0.0, 1.0])
    assert m["n_images"] == 4 and m["lesion_dice"] == pytest.approx(0.625)
    # overlays chosen over all ranks: d only lives on rank 1
    assert m["files"]["overlays"] == ["overlays/a.png", "overlays/b.png", "overlays/c.png", "overlays/d.png"]
    assert sorted(os.listdir(ddp_out / "seg" / "overlays")) == ["a.png", "b.png", "c.png", "d.png"]


def test_classification_from_both_ranks(ddp_out):
    m = json.loads((ddp_out / "cls" / "metrics.json").read_text())
    assert m["n_cases"] == 4 and m["confusion_matrix"] == [[1, 1], [1, 1]]
    assert m["roc_auc"] == pytest.approx(0.75)  # malignant 0.9, 0.4 vs benign 0.2, 0.6: 3 of 4 pairs


def test_curves_loss_averaged_over_ranks(ddp_out):
    h = json.loads((ddp_out / "curves" / "history.json").read_text())["history"]
    assert [(r["epoch"], r["train_loss"]) for r in h] == [(1, 1.5), (2, 1.5)]


def test_single_rank_attachment_without_collectives(ddp_out):
    rows = read_csv(ddp_out / "seg_rank0" / "per_image.csv")
    assert [r["case"] for r in rows] == ["a", "b", "c"]
    h = json.loads((ddp_out / "curves_rank0" / "history.json").read_text())["history"]
    assert [r["train_loss"] for r in h] == [5.0]
