"""Images per second of the training-time data pipeline alone (no network), against what a GPU asks for.

A GPU trains paper A's network at 224 x 224 at roughly a thousand images per second, so the loader has to serve at
least 800 (the target printed below). Measured with the bundles' own pieces, cache warm, batch 8, per preset:

* ``full_mammogram`` at 224 (image-level items, as ``bundles/unet_effb3``) and ``roi_crop`` at 512 (one item per
  lesion, as ``bundles/unet_roi``);
* (1) reading one cached item, CPU ms: from the disk cache (``cached_dataset``: ``torch.load`` of a MetaTensor with
  its metadata) and from memory (``cached_dataset(..., in_memory=True)``: MONAI's ``CacheDataset`` filled from the
  disk cache);
* (2) CPU ms per image of each MONAI random transform alone (probability forced to 1: the cost when it fires), of
  the OpenCV pass (``augment_backend="opencv"``: the same list drawn once, one ``cv2.warpAffine`` per key) at the
  preset's probabilities and with everything firing, and of the collate (MONAI's ``list_data_collate`` with the
  metadata, :func:`~monai_cbis.transforms.collate_without_meta` without);
* (3) the training loaders with 0 and ``--workers`` workers (2: what a GPU run on this 2-core machine would use):
  ``monai`` is the default (disk cache, MONAI's transforms, MONAI's collate), ``opencv`` the fast path (memory
  cache, the OpenCV pass, the metadata-free collate). Whole epochs after a warm-up epoch; for each: images/s (best
  and median round); CPU ms per image of the main process and the workers together; the rate that CPU cost allows
  on idle cores (1000 / CPU-ms per process that can work at once, the main process and each worker on its own
  core: the ceiling on this machine when nothing else runs); the peak memory of each worker (VmHWM, pages shared
  with the parent included);
* (4) the GPU switch, ``get_preset(..., augment_device=DEVICE)``: the items' pipeline is deterministic, so the
  ``ThreadDataLoader`` (``num_workers=0``) only reads them from memory and stacks them (``collate_without_meta``) in
  a thread, and each batch is moved to ``--device`` and augmented there as a batch (``Preset.batch``, one draw per
  image, through the trainer's own ``PrepareBatchAugment``); timed to the end of the device's work. Without a GPU it
  runs with ``cpu`` to show that the pipeline builds and runs; its figure then says nothing about a GPU.

Each round runs every loader variant once (interleaved, so a busy machine slows all alike). Torch runs one thread
per process (as in torch's DataLoader workers), OpenCV its default number (as in the bundles). On a shared machine
images/s follow the load (printed with each preset); CPU ms per image much less.

    python benchmarks/loader.py                     # 150-case demo collection, 3 rounds
    python benchmarks/loader.py --quick             # CI smoke: tiny collection, 1 round, small sizes
    python benchmarks/loader.py --only full_mammogram
    python benchmarks/loader.py --device cuda:0     # the GPU switch on a GPU

Which to use: on a CPU-only machine the network trains at 2-4 images/s and any loader keeps up: keep the default.
To feed a GPU from the CPU, use ``augment_backend="opencv"`` with ``in_memory=True`` and ``collate_without_meta``
(the bundles' ``--augment_backend opencv``); on this 2-core machine with no worker process (workers add 1-4 ms per
image of hand-over to the main process, more than they save on two cores). With a GPU, ``augment_device="cuda:0"``
(the bundles' ``--augment_device cuda:0``) augments whole batches there and leaves the CPU only the reading.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time

import cv2
import torch

TARGET = 800.0  # images/s a GPU needs at 224 x 224 (issue 15)
_TICK = os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except OSError:
        return 0.0


def _epoch(loader, per_batch=None) -> tuple[int, float, float, list[float]]:
    """Iterate ``loader`` once (each batch through ``per_batch`` if given): images served, seconds (to the end of
    the GPU's work), CPU seconds (this process and its live workers), peak RSS (MB) of the workers."""
    it = iter(loader)
    workers = list(getattr(it, "_workers", []))
    n, t0, c0 = 0, time.perf_counter(), time.process_time() + sum(_cpu_s(w.pid) for w in workers)
    for batch in it:
        images = per_batch(batch)[0] if per_batch is not None else batch["image"]
        n += int(images.shape[0])
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    cpu = time.process_time() + sum(_cpu_s(w.pid) for w in workers) - c0
    peaks = [p for p in (_peak_rss_mb(w.pid) for w in workers) if p is not None]
    return n, dt, cpu, peaks


def _setups(root: str, quick: bool, device: str):
    from monai_cbis.data import lesion_items, section_items

    full_size, roi_size = (64, 128) if quick else (224, 512)
    image_items = section_items(root, "training", task="mass", keys=["image", "label", "laterality"])
    yield f"full_mammogram {full_size}", image_items, "full_mammogram", {"image_size": [full_size, full_size]}
    roi = {"image_size": [roi_size, roi_size], "mask_key": "label", "margin": 64}
    yield f"roi_crop {roi_size}", lesion_items(root, "training", target="mask", task="mass"), "roi_crop", roi


def _ms_per_item(fn, items: list, reps: int) -> float:
    """CPU milliseconds (this process) per call of ``fn`` on each of ``items``."""
    t0 = time.process_time()
    for _ in range(reps):
        for item in items:
            fn(item)
    return (time.process_time() - t0) / (reps * len(items)) * 1000


def _costs(cached: list[dict], presets: dict, reps: int) -> list[tuple[str, float]]:
    from monai.data import list_data_collate

    from monai_cbis.transforms import collate_without_meta

    out = []
    for t in copy.deepcopy(presets["monai"].random).transforms:  # a copy: the loaders keep the real probabilities
        if hasattr(t, "prob"):
            t.prob = 1.0
        out.append((type(t).__name__, _ms_per_item(lambda d, t=t: t(dict(d)), cached, reps)))
    fast = copy.deepcopy(presets["opencv"].random.transforms[0]).set_random_state(0)
    out.append(("OpenCV pass at the preset's probabilities", _ms_per_item(fast, cached, reps * 4)))
    aug = fast.augment
    aug.rotate_prob = aug.flip_prob = aug.zoom_prob = aug.intensity_prob = 1.0
    out.append(("OpenCV pass, everything firing", _ms_per_item(fast, cached, reps)))
    batch = [fast(d) for d in cached[:8]]
    for name, collate in (("list_data_collate", list_data_collate), ("collate_without_meta", collate_without_meta)):
        out.append((name, _ms_per_item(lambda b, c=collate: c(b), [batch], reps * 4) / len(batch)))
    return out


def bench(name, items, preset_name, settings, cache_dir, a) -> None:
    from monai.data import DataLoader, ThreadDataLoader

    from monai_cbis.engines import PrepareBatchAugment
    from monai_cbis.transforms import cached_dataset, collate_without_meta, get_preset

    presets = {
        "monai": get_preset(preset_name, **settings),
        "opencv": get_preset(preset_name, **settings, augment_backend="opencv"),
        "device": get_preset(preset_name, **settings, augment_device=a.device),
    }
    det = cached_dataset(items, presets["monai"].inference(), cache_dir)
    for i in range(len(det)):  # warm the cache (computed once, read afterwards)
        det[i]
    t0 = time.process_time()
    cached = [det[i] for i in range(len(det))]
    read_ms = (time.process_time() - t0) / len(cached) * 1000
    memory = cached_dataset(items, presets["opencv"], cache_dir, in_memory=True)
    mem_ms = _ms_per_item(lambda i: memory._cache[i], list(range(len(memory))), 10)
    print(f"\n== {name}: {len(items)} training items, batch {a.batch_size}; load average {os.getloadavg()[0]:.1f}")
    print(f"  (1) cache read, CPU ms per image: from disk {read_ms:.2f} ({1000 / read_ms:.0f} images/s per core), "
          f"from memory {mem_ms:.4f}")  # fmt: skip
    costs = _costs(cached[: min(8, len(cached))], presets, 1 if a.quick else 3)
    print("  (2) CPU ms per image: " + ", ".join(f"{n} {ms:.2f}" for n, ms in costs))

    train = cached_dataset(items, presets["monai"], cache_dir)
    on_device = cached_dataset(items, presets["device"], cache_dir, in_memory=True)
    prepare = PrepareBatchAugment(presets["device"].batch, device=a.device, seed=0)
    built, procs = {}, {}
    for w in sorted({0, a.workers}):
        procs[f"monai, DataLoader, {w} workers"] = procs[f"opencv, DataLoader, {w} workers"] = 1 + w
        built[f"monai, DataLoader, {w} workers"] = DataLoader(
            train, batch_size=a.batch_size, shuffle=True, num_workers=w, persistent_workers=w > 0
        )
        built[f"opencv, DataLoader, {w} workers"] = DataLoader(
            memory, batch_size=a.batch_size, shuffle=True, num_workers=w, persistent_workers=w > 0,
            collate_fn=collate_without_meta,
        )  # fmt: skip
    switch = f"augment_device={a.device}, batches on it"
    built[switch] = ThreadDataLoader(
        on_device, batch_size=a.batch_size, shuffle=True, num_workers=0, collate_fn=collate_without_meta
    )
    per_batch = {switch: lambda b: prepare(b, torch.device(a.device))}
    rates: dict[str, list[float]] = {k: [] for k in built}
    cpu_ms: dict[str, list[float]] = {k: [] for k in built}
    peaks: dict[str, list[float]] = {k: [] for k in built}
    for k in built:  # warm-up epoch (worker start-up, first allocations)
        _epoch(built[k], per_batch.get(k))
    for _ in range(a.rounds):
        for k, loader in built.items():
            n, dt, cpu, p = _epoch(loader, per_batch.get(k))
            rates[k].append(n / dt)
            cpu_ms[k].append(cpu / n * 1000)
            peaks[k].extend(p)
    print(f"  (3)/(4) training loader against the {TARGET:.0f} target (images/s best / median of {a.rounds} rounds; "
          "CPU ms per image, main + workers; the rate that allows on idle cores; peak MB per worker):")  # fmt: skip
    cores = len(os.sched_getaffinity(0))  # the cores this process may use (taskset), not the machine's
    for k in built:
        best, cpu = max(rates[k]), statistics.median(cpu_ms[k])
        ceiling = 1000 * min(cores, procs.get(k, 1)) / cpu  # processes that can work at once, each on its own core
        verdict = "met" if best >= TARGET else f"NOT met ({best / TARGET:.2f} of it)"
        peak = f"{max(peaks[k]):6.0f} MB" if peaks[k] else "     -"
        print(f"      {k:<45s} {best:8.1f} / {statistics.median(rates[k]):8.1f}   {verdict:<20s}"
              f" {cpu:6.2f} CPU-ms  {ceiling:7.0f} on idle cores  {peak}")  # fmt: skip
    all_peaks = [p for v in peaks.values() for p in v]
    if all_peaks:
        print(f"  peak memory per worker (VmHWM, shared pages included): {max(all_peaks):.0f} MB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=None, help="a collection to read (default: the demo, written to a temp dir)")
    ap.add_argument("--cases", type=int, default=150, help="cases of the synthetic demo collection")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cuda:0" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--only", choices=["full_mammogram", "roi_crop"], default=None, help="one preset only")
    ap.add_argument("--quick", action="store_true", help="CI mode: 12 cases, 64 / 128 pixels, 1 round")
    a = ap.parse_args(argv)
    if a.quick:
        a.cases, a.rounds = 12, 1
    torch.set_num_threads(1)

    from monai_cbis.data import demo_data_dir

    with tempfile.TemporaryDirectory() as tmp:
        root = a.data_dir or demo_data_dir(os.path.join(tmp, "data"), cases=a.cases)
        print(f"loader benchmark: {root}; device for the switch: {a.device}; torch threads 1, OpenCV threads "
              f"{cv2.getNumThreads()}; {len(os.sched_getaffinity(0))} of {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}")  # fmt: skip
        for name, items, preset_name, settings in _setups(root, a.quick, a.device):
            if a.only in (None, preset_name):
                bench(name, items, preset_name, settings, os.path.join(tmp, "cache"), a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
