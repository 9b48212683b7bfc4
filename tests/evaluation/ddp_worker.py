"""Run the evaluation handlers in 2 gloo processes (started by test_distributed.py; not collected by pytest).

Usage: python ddp_worker.py OUTPUT_DIR MASTER_PORT
"""

from __future__ import annotations

import os
import sys

import ignite.distributed as idist
import numpy as np
import torch

# rank 0 evaluates a, b, c; rank 1 evaluates c again (a padded distributed sampler repeats items) and d
NAMES = {0: ["a", "b", "c"], 1: ["c", "d"]}
DICE = {"a": 1.0, "b": 0.5, "c": 0.0, "d": 1.0}


def seg_item(name):
    from monai.data import MetaTensor

    label = np.zeros((1, 8, 8), np.float32)
    label[0, 0:4, 0:4] = 1
    pred = {"a": label, "b": np.roll(label, 2, axis=1), "c": np.roll(label, 4, axis=2), "d": label}[name]
    meta = {"filename_or_obj": f"/data/{name}.png"}
    return {"image": MetaTensor(pred.copy(), meta=meta), "label": MetaTensor(label), "pred": MetaTensor(pred.copy())}


def cls_item(name):
    p = {"a": 0.9, "b": 0.2, "c": 0.6, "d": 0.4}[name]
    y = {"a": 1, "b": 0, "c": 0, "d": 1}[name]
    from monai.data import MetaTensor

    image = MetaTensor(torch.zeros(1, 2, 2), meta={"filename_or_obj": f"/data/{name}.png"})
    return {"image": image, "label": torch.tensor(y), "pred": torch.tensor([1 - p, p])}


def run(local_rank, out):
    # imported here, in the two workers only: the launching process needs none of it
    from ignite.engine import Engine

    from monai_cbis.evaluation import ClassificationReportHandler, SegmentationReportHandler, TrainingCurvesHandler

    rank = idist.get_rank()
    names = NAMES[rank]
    seg = Engine(lambda e, batch: [seg_item(n) for n in batch])
    SegmentationReportHandler(os.path.join(out, "seg"), num_overlays=4, panel_px=32).attach(seg)
    seg.run([names[:2], names[2:]] if len(names) > 2 else [names], max_epochs=1)

    cls = Engine(lambda e, batch: [cls_item(n) for n in batch])
    ClassificationReportHandler(os.path.join(out, "cls")).attach(cls)
    cls.run([names], max_epochs=1)

    # rank r's iteration losses are r + 1: the epoch loss averaged over ranks is 1.5
    trainer = Engine(lambda e, batch: [{"loss": torch.tensor(float(rank + 1))}] * 2)
    TrainingCurvesHandler(os.path.join(out, "curves")).attach(trainer)
    trainer.run([0, 1, 2], max_epochs=2)
    if rank == 0:  # attached on one rank only, collectives turned off: must not hang, reports rank 0's share
        solo = Engine(lambda e, batch: [seg_item(n) for n in batch])
        SegmentationReportHandler(os.path.join(out, "seg_rank0"), num_overlays=0, gather_across_ranks=False).attach(
            solo
        )
        solo.run([names], max_epochs=1)
        solo_trainer = Engine(lambda e, batch: {"loss": torch.tensor(5.0)})
        TrainingCurvesHandler(os.path.join(out, "curves_rank0"), reduce_loss_across_ranks=False).attach(solo_trainer)
        solo_trainer.run([0], max_epochs=1)
    with open(os.path.join(out, f"rank{rank}.done"), "w") as f:
        f.write("ok")


if __name__ == "__main__":
    output_dir, port = sys.argv[1], int(sys.argv[2])
    with idist.Parallel(backend="gloo", nproc_per_node=2, master_port=port) as parallel:
        parallel.run(run, output_dir)
