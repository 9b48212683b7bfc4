"""Images per second of the unet_effb3 bundle's trainer against a plain PyTorch loop, in one run.

Both train the same network (built from the bundle's ``network_def``), with the same loss, optimizer, batch size and
batches (preprocessed synthetic mammograms held in memory, so data loading is identical and cheap). The bundle side is
the ``SupervisedTrainer`` that ``configs/train.json`` builds, with all its handlers attached; only iterations are
timed (from the end of warm-up to the last iteration), not the end-of-epoch validation. A third side is the plain loop
with the network and its inputs in channels-last memory format (a CPU option, measured here before any bundle uses
it). The three are run alternately ``--rounds`` times (interleaved, so a busy machine slows all alike); the best
round of each is compared and the median printed beside it.

    python benchmarks/train_step.py                      # 224 x 224, batch 8 (the bundle's settings)
    python benchmarks/train_step.py --quick              # 64 x 64, few iterations (CI)
    python benchmarks/train_step.py --device cuda:0 --amp --batch-size 64   # what a GPU asks of the loader
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "bundles", "unet_effb3", "configs", "train.json")


def _batches(root: str, size: int, batch_size: int, n_batches: int, cache_dir: str) -> list[dict]:
    from monai.data import DataLoader

    from monai_cbis.data import section_items
    from monai_cbis.transforms import cached_dataset, get_preset

    items = section_items(root, "training", task="mass", keys=["image", "label", "laterality"])
    ds = cached_dataset(items, get_preset("full_mammogram", image_size=[size, size]).inference(), cache_dir)
    if len(ds) < batch_size:  # no full batch would ever come
        raise SystemExit(f"{len(ds)} training items make no batch of {batch_size}: raise --cases or lower --batch-size")
    loader = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=0)
    batches = []
    while len(batches) < n_batches:
        batches.extend(b for b in loader if b["image"].shape[0] == batch_size)
    return batches[:n_batches]


def _plain(net, loss_fn, opt, batches, warmup: int, device, channels_last: bool = False, amp: bool = False) -> float:
    """Seconds of the iterations after ``warmup``; with ``amp`` as MONAI's ``SupervisedTrainer(amp=True)`` does it
    (``torch.autocast("cuda")`` around the forward pass and the loss, a ``GradScaler`` for the backward)."""
    net.train()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    scaler = torch.amp.GradScaler("cuda") if amp else None
    for i, b in enumerate(batches):
        if i == warmup:
            t0 = time.perf_counter()
        x, y = b["image"].to(device, memory_format=fmt), b["label"].to(device)
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, enabled=amp):
            loss = loss_fn(net(x), y)
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def _bundle(root, batches, size, batch_size, warmup, tmp, device, amp=False) -> tuple[float, torch.nn.Module]:
    from monai.bundle import ConfigWorkflow

    wf = ConfigWorkflow(config_file=CONFIG, logging_file=False, workflow_type="train", bundle_root=tmp,
                        dataset_dir=root, cache_dir=os.path.join(tmp, "cache"), epochs=1, image_size=[size, size],
                        batch_size=batch_size, num_workers=0, device=device, amp=amp)  # fmt: skip
    wf.initialize()
    wf.parser["train#trainer#train_data_loader"] = batches  # same batches as the plain loop
    trainer = wf.parser.get_parsed_content("train#trainer")
    return timed_iterations(trainer, len(batches), warmup, device), wf.parser.get_parsed_content("network_def")


def timed_iterations(trainer, n_batches: int, warmup: int, device) -> float:
    """Run ``trainer`` (an ignite engine) over its ``n_batches`` batches and return the seconds from the end of the
    ``warmup``-th iteration to the end of the last; the run stops there, before any end-of-epoch validation."""
    from ignite.engine import Events

    marks: dict[str, float] = {}

    def start(engine):
        if engine.state.iteration == warmup:  # the warm-up iterations have completed
            marks["t0"] = time.perf_counter()

    def stop(engine):
        if device.type == "cuda":
            torch.cuda.synchronize()
        marks["t1"] = time.perf_counter()
        engine.terminate()  # the timed part is over: skip the end-of-epoch validation

    trainer.add_event_handler(Events.ITERATION_COMPLETED, start)
    trainer.add_event_handler(Events.ITERATION_COMPLETED(once=n_batches), stop)
    trainer.run()
    return marks["t1"] - marks["t0"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--iterations", type=int, default=12, help="timed iterations per round (after 2 warm-up)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cuda:0" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--cases", type=int, default=40, help="cases of the synthetic collection the batches come from")
    ap.add_argument("--quick", action="store_true", help="CI mode: 64 x 64, 3 iterations, 1 round, 12 cases")
    ap.add_argument("--amp", action="store_true", help="mixed precision on both sides (the bundle's amp; CUDA only)")
    a = ap.parse_args(argv)
    if a.quick:
        a.image_size, a.iterations, a.rounds, a.cases = 64, 3, 1, 12

    from monai.losses import DiceFocalLoss

    from monai_cbis.data import demo_data_dir

    device, warmup = torch.device(a.device), 2
    if a.amp and device.type != "cuda":
        ap.error(f"--amp needs a CUDA device (MONAI's trainer autocasts on CUDA only), got --device {a.device}.")
    with tempfile.TemporaryDirectory() as tmp:
        root = demo_data_dir(os.path.join(tmp, "data"), cases=a.cases)
        batches = _batches(root, a.image_size, a.batch_size, warmup + a.iterations, os.path.join(tmp, "pcache"))
        images = a.batch_size * a.iterations
        plain, bundle, cl = [], [], []
        for _ in range(a.rounds):
            t_bundle, net = _bundle(root, batches, a.image_size, a.batch_size, warmup, tmp, device, a.amp)
            bundle.append(images / t_bundle)
            for rates, channels_last in ((plain, False), (cl, True)):
                fresh = copy.deepcopy(net).to(device)  # the same network (definition and weights) for each plain side
                if channels_last:
                    fresh = fresh.to(memory_format=torch.channels_last)
                opt = torch.optim.Adam(fresh.parameters(), lr=1e-3)
                loss = DiceFocalLoss(sigmoid=True, gamma=2.0)
                rates.append(images / _plain(fresh, loss, opt, batches, warmup, device, channels_last, a.amp))
    print(f"device {device}, {a.image_size} x {a.image_size}, batch {a.batch_size}, {a.iterations} timed iterations, "
          f"best of {a.rounds} rounds, amp {a.amp}")  # fmt: skip
    for name, rates in (("plain PyTorch loop", plain), ("bundle trainer", bundle), ("plain, channels-last", cl)):
        rounds = ", ".join(f"{v:.2f}" for v in rates)
        print(f"{name + ':':22s}{max(rates):.2f} images/s, median {statistics.median(rates):.2f}   (rounds: {rounds})")
    ratio = max(bundle) / max(plain)
    print(f"ratio bundle/plain: {ratio:.3f} (target >= 0.95: {'met' if ratio >= 0.95 else 'NOT met'})")
    print(f"ratio channels-last/plain: {max(cl) / max(plain):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
