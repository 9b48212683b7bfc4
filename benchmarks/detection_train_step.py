"""Images per second of the retinanet_detection bundle's trainer against a plain PyTorch loop, in one run.

Both train the same RetinaNet (the bundle's ``network_def``, inside the bundle's ``detector``: same anchors, matcher,
sampler and loss), with Adam at the bundle's learning rate and the same batches: lists of preprocessed synthetic
films with their boxes (``no_collation``, as the bundle's loader gives them), held in memory so that data loading is
identical and cheap. The bundle side is the ``DetectionTrainer`` that ``configs/train.json`` builds, with all its
handlers attached; only iterations are timed (from the end of warm-up to the last one), not the end-of-epoch
validation. Bundle and plain loop alternate ``--rounds`` times, each going first in every other round (so neither
always pays for the other's warm state); the best round of each is compared, and the median of each round's own
bundle/plain ratio is printed beside it (one round that runs fast by chance moves the first, not the second).

    python benchmarks/detection_train_step.py            # long side 256, batch 4
    python benchmarks/detection_train_step.py --quick    # long side 64, few iterations (CI)
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time

import torch
from train_step import timed_iterations  # this folder is on sys.path when a benchmark runs as a script

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "bundles", "retinanet_detection", "configs", "train.json")
ANCHORS = [[8, 8], [16, 16], [24, 24]]


def _workflow(root: str, tmp: str, long_side: int, batch_size: int, device):
    from monai.bundle import ConfigWorkflow

    wf = ConfigWorkflow(config_file=CONFIG, logging_file=False, workflow_type="train", bundle_root=tmp,
                        dataset_dir=root, cache_dir=os.path.join(tmp, "cache"), epochs=1, long_side=long_side,
                        anchor_sizes=ANCHORS, batch_size=batch_size, num_workers=0, device=device)  # fmt: skip
    wf.initialize()
    return wf


def _batches(wf, batch_size: int, n_batches: int) -> list[list[dict]]:
    """The bundle's training items through its deterministic preprocessing (no augmentation: same data each round)."""
    items = wf.parser.get_parsed_content("train#items")
    transform = wf.parser.get_parsed_content("validate#preprocessing")
    films = [transform(dict(i)) for i in items[: batch_size * n_batches]]
    while len(films) < batch_size * n_batches:
        films += films[: batch_size * n_batches - len(films)]
    return [films[i * batch_size : (i + 1) * batch_size] for i in range(n_batches)]


def _plain(detector, opt, batches, warmup: int, device) -> float:
    """The lung-nodule bundle's training step written out: detector losses, their sum, backward, step."""
    detector.train()
    for i, batch in enumerate(batches):
        if i == warmup:
            t0 = time.perf_counter()
        images = [b["image"].to(device) for b in batch]
        targets = [{"box": b["box"].to(device), "label": b["label"].to(device)} for b in batch]
        opt.zero_grad(set_to_none=True)
        losses = detector(images, targets)
        (losses["classification"] + losses["box_regression"]).backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def _bundle(wf, batches, warmup: int, device) -> float:
    wf.parser["train#trainer#train_data_loader"] = batches  # same batches as the plain loop
    trainer = wf.parser.get_parsed_content("train#trainer", lazy=False)
    return timed_iterations(trainer, len(batches), warmup, device)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--long-side", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--iterations", type=int, default=8, help="timed iterations per round (after 2 warm-up)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cuda:0" if torch.cuda.is_available() else "cpu")
    ap.add_argument(
        "--quick", action="store_true", help="CI mode: 8 women, long side 64, batch 2, 2 iterations, 1 round"
    )
    a = ap.parse_args(argv)
    cases = 40
    if a.quick:
        cases, a.long_side, a.batch_size, a.iterations, a.rounds = 8, 64, 2, 2, 1

    from monai_cbis.data import demo_data_dir

    device, warmup = torch.device(a.device), 2
    plain, bundle = [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = demo_data_dir(os.path.join(tmp, "data"), cases=cases)
        batches = None
        for r in range(a.rounds):
            wf = _workflow(root, os.path.join(tmp, f"bundle{r}"), a.long_side, a.batch_size, device)
            batches = batches or _batches(wf, a.batch_size, warmup + a.iterations)
            images = a.batch_size * a.iterations
            # a fresh detector of the same definition (network, anchors, matcher, sampler) for the plain loop
            fresh = _workflow(root, os.path.join(tmp, f"plain{r}"), a.long_side, a.batch_size, device)
            detector = fresh.parser.get_parsed_content("detector")
            detector.network.to(device)
            opt = torch.optim.Adam(detector.network.parameters(), lr=fresh.parser.get_parsed_content("learning_rate"))
            sides = [
                (bundle, functools.partial(_bundle, wf, batches, warmup, device)),
                (plain, functools.partial(_plain, detector, opt, batches, warmup, device)),
            ]
            for rates, run in sides if r % 2 == 0 else sides[::-1]:  # alternate which side runs first
                rates.append(images / run())
    print(f"device {device}, long side {a.long_side}, batch {a.batch_size}, {a.iterations} timed iterations, "
          f"best of {a.rounds} rounds")  # fmt: skip
    for name, rates in (("plain PyTorch loop", plain), ("bundle trainer", bundle)):
        rounds = ", ".join(f"{v:.2f}" for v in rates)
        print(f"{name + ':':20s}{max(rates):.2f} images/s, median {statistics.median(rates):.2f}   (rounds: {rounds})")
    ratio = max(bundle) / max(plain)
    print(f"ratio bundle/plain: {ratio:.3f} (target >= 0.95: {'met' if ratio >= 0.95 else 'NOT met'})")
    paired = statistics.median(b / p for b, p in zip(bundle, plain, strict=True))  # a round's sides run back to back
    verdict = "met" if paired >= 0.95 else "NOT met"
    print(f"median of the rounds' own ratios: {paired:.3f} (target >= 0.95: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
