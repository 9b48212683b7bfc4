"""Images per second of the training-time data pipeline alone (no network), against what a GPU asks for.

A GPU trains paper A's network at 224 x 224 at roughly a thousand images per second, so the loader has to serve at
least 800 (the target printed below). Measured with the bundles' own pieces, cache warm, batch 8, per preset:

* ``full_mammogram`` at 224 (image-level items, as ``bundles/unet_effb3``) and ``roi_crop`` at 512 (one item per
  lesion, as ``bundles/unet_roi``);
* (1) the cache read alone (the deterministic part served from ``cached_dataset``), in the main process;
* (2) each random transform alone (probability forced to 1: the cost when it fires), in the main process;
* (3) the training loader: cache read + the random augmentation through MONAI's ``DataLoader`` with 0 workers and
  with ``--workers`` workers (2: what a GPU run on this 2-core machine would use), whole epochs after a warm-up
  epoch, and the peak memory (VmHWM, pages shared with the parent included) of each worker;
* (4) the GPU switch, ``get_preset(..., augment_device=DEVICE)`` with a ``ThreadDataLoader`` (``num_workers=0``):
  the cached item is moved to ``--device`` and MONAI's random transforms run there. Without a GPU it runs with
  ``cpu`` to show that the pipeline builds and runs; its figure then says nothing about a GPU.

Each round runs every loader variant once (interleaved, so a busy machine slows all alike); the best and median
rounds are printed. Torch runs one thread per process, as in a DataLoader worker.

    python benchmarks/loader.py                     # 150-case demo collection, 3 rounds
    python benchmarks/loader.py --quick             # CI smoke: tiny collection, 1 round, small sizes
    python benchmarks/loader.py --device cuda:0     # the GPU switch on a GPU
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

TARGET = 800.0  # images/s a GPU needs at 224 x 224 (issue 15)


def _peak_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _epoch(loader) -> tuple[int, float, list[float]]:
    """Iterate ``loader`` once: images served, seconds, peak RSS (MB) of its live worker processes."""
    n, t0 = 0, time.perf_counter()
    it = iter(loader)
    for batch in it:
        n += int(batch["image"].shape[0])
    dt = time.perf_counter() - t0
    workers = getattr(it, "_workers", [])
    peaks = [p for p in (_peak_rss_mb(w.pid) for w in workers) if p is not None]
    return n, dt, peaks


def _setups(root: str, quick: bool, device: str):
    from monai_cbis.data import lesion_items, section_items
    from monai_cbis.transforms import get_preset

    full_size, roi_size = (64, 128) if quick else (224, 512)
    image_items = section_items(root, "training", task="mass", keys=["image", "label", "laterality"])
    yield (
        f"full_mammogram {full_size}",
        image_items,
        get_preset("full_mammogram", image_size=[full_size, full_size]),
        get_preset("full_mammogram", image_size=[full_size, full_size], augment_device=device),
    )
    roi = {"image_size": [roi_size, roi_size], "mask_key": "label", "margin": 64}
    yield (
        f"roi_crop {roi_size}",
        lesion_items(root, "training", target="mask", task="mass"),
        get_preset("roi_crop", **roi),
        get_preset("roi_crop", **roi, augment_device=device),
    )


def _per_transform_ms(cached: list[dict], preset, reps: int) -> list[tuple[str, float]]:
    out = []
    for t in copy.deepcopy(preset.random).transforms:  # a copy: the loaders below keep the real probabilities
        if hasattr(t, "prob"):
            t.prob = 1.0
        t0 = time.perf_counter()
        for _ in range(reps):
            for item in cached:
                t(dict(item))
        out.append((type(t).__name__, (time.perf_counter() - t0) / (reps * len(cached)) * 1000))
    return out


def bench(name, items, preset, device_preset, cache_dir, a) -> None:
    from monai.data import DataLoader, ThreadDataLoader

    from monai_cbis.transforms import cached_dataset

    det = cached_dataset(items, preset.inference(), cache_dir)
    for i in range(len(det)):  # warm the cache (computed once, read afterwards)
        det[i]
    t0 = time.perf_counter()
    cached = [det[i] for i in range(len(det))]
    read_ms = (time.perf_counter() - t0) / len(cached) * 1000
    print(f"\n== {name}: {len(items)} training items, batch {a.batch_size}")
    print(f"  (1) cache read alone: {read_ms:.2f} ms/image ({1000 / read_ms:.0f} images/s in one process)")
    costs = _per_transform_ms(cached[: min(8, len(cached))], preset, 1 if a.quick else 3)
    print("  (2) each random transform when it fires (ms/image): " + ", ".join(f"{n} {ms:.2f}" for n, ms in costs))

    train = cached_dataset(items, preset.train(), cache_dir)
    on_device = cached_dataset(items, device_preset.train(), cache_dir)
    loaders = {f"DataLoader, {w} workers": (train, w) for w in sorted({0, a.workers})}
    results: dict[str, list[float]] = {k: [] for k in loaders}
    switch = f"augment_device={a.device}, ThreadDataLoader"
    results[switch] = []
    peaks: list[float] = []
    built = {
        k: DataLoader(ds, batch_size=a.batch_size, shuffle=True, num_workers=w, persistent_workers=w > 0)
        for k, (ds, w) in loaders.items()
    }
    built[switch] = ThreadDataLoader(on_device, batch_size=a.batch_size, shuffle=True, num_workers=0)
    for k in built:  # warm-up epoch (worker start-up, first allocations)
        _epoch(built[k])
    for _ in range(a.rounds):
        for k, loader in built.items():
            n, dt, p = _epoch(loader)
            results[k].append(n / dt)
            peaks.extend(p)
    print(f"  (3)/(4) training loader, images/s (best / median of {a.rounds} rounds) against the {TARGET:.0f} target:")
    for k, v in results.items():
        best = max(v)
        verdict = "met" if best >= TARGET else f"NOT met ({best / TARGET:.2f} of it)"
        print(f"      {k:<45s} {best:8.1f} / {statistics.median(v):8.1f}   {verdict}")
    if peaks:
        print(f"  peak memory per worker (VmHWM, shared pages included): {max(peaks):.0f} MB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=None, help="a collection to read (default: the demo, written to a temp dir)")
    ap.add_argument("--cases", type=int, default=150, help="cases of the synthetic demo collection")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cuda:0" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="CI mode: 12 cases, 64 / 128 pixels, 1 round")
    a = ap.parse_args(argv)
    if a.quick:
        a.cases, a.rounds = 12, 1
    torch.set_num_threads(1)

    from monai_cbis.data import demo_data_dir

    with tempfile.TemporaryDirectory() as tmp:
        root = a.data_dir or demo_data_dir(os.path.join(tmp, "data"), cases=a.cases)
        print(f"loader benchmark: {root}; device for the switch: {a.device}; torch threads 1")
        for name, items, preset, device_preset in _setups(root, a.quick, a.device):
            bench(name, items, preset, device_preset, os.path.join(tmp, "cache"), a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
