"""Patches per second of unet_highres's training loader against the time of one training step: which is the bottleneck.

The bundle's own pieces: ``get_preset("highres", ...)`` (breast crop, resize by ``downsample``, CLAHE cached once per
film by ``cached_dataset``; then ``RandCropByPosNegLabeld`` patches and the augmentation, in the loader), MONAI's
``DataLoader`` with ``--workers`` worker processes (2: this machine's cores) and ``--batch-size`` films a step, so a
step trains ``batch_size * num_samples`` patches, as ``train.json`` does. The films are a synthetic collection with
realistic lesions (``make_synthetic_cbis(realistic_lesions=True)``), both lesion types, training section.

* ``--setting gpu`` (default): the bundle's GPU defaults on full-size films (about 5000 x 3000, 50 um pixels):
  downsample 4, 512 x 512 patches, 4 a film, batch 2 (8 patches a step).
* ``--setting cpu-demo``: the README's CPU demo on the demo's films (about 640 x 400): downsample 1, 160 x 160
  patches, 2 a film, batch 2.

Measured: (1) filling the cache (first pass) and reading it; (2) the loader's patches/s over whole epochs after a
warm-up epoch, best and median of ``--rounds``; (3) one training step of the bundle's U-Net
(``unet_efficientnet_b3``, DiceFocalLoss, Adam) on a batch of patches already in memory on ``--device``, best and
median of ``--steps`` after one warm-up step. The loader could feed ``patches/s / patches per step`` steps a second;
whichever of that and ``1 / step seconds`` is lower is the bottleneck. Loader workers run one torch thread each;
the step runs with torch's threads (``OMP_NUM_THREADS``), printed. Wall-clock seconds: on a shared machine compare
within one run. On a CPU the gpu setting's step (8 patches of 512 x 512) is slow and large: about two minutes a step
at one thread, and the whole run peaked at 10.9 GB resident on the 2-core project machine; ``--steps 1`` there.

    python benchmarks/highres_patches.py                          # GPU defaults, full-size films; step on --device
    python benchmarks/highres_patches.py --setting cpu-demo       # the CPU demo's settings
    python benchmarks/highres_patches.py --quick                  # CI smoke: tiny films, 64 x 64 patches
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import torch

SETTINGS = {  # films (None: full size), cases, downsample, patch side, patches a film
    "gpu": (None, 8, 4, 512, 4),
    "cpu-demo": ((640, 400), 40, 1, 160, 2),
    "quick": ((256, 160), 8, 1, 64, 2),
}


def _items(tmp: str, image_size, cases: int) -> list[dict]:
    from monai_cbis.data import make_synthetic_cbis
    from monai_cbis.data.items import section_items

    coll = make_synthetic_cbis(os.path.join(tmp, "cbis"), cases=cases, seed=0, full_size=image_size is None,
                               image_size=image_size, realistic_lesions=True)  # fmt: skip
    return section_items(coll.root, "training", task="both", level="image", keys=["image", "label", "laterality"])


def _epoch(loader) -> tuple[int, float]:
    n, t0 = 0, time.perf_counter()
    for batch in loader:
        n += int(batch["image"].shape[0])
    return n, time.perf_counter() - t0


def _step_seconds(batch: dict, device: torch.device, steps: int) -> list[float]:
    from monai.losses import DiceFocalLoss

    from monai_cbis.networks import unet_efficientnet_b3

    net = unet_efficientnet_b3(in_channels=1, out_channels=1, dropout=0.2, pretrained=False).to(device).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = DiceFocalLoss(sigmoid=True, gamma=2.0)
    x, y = batch["image"].as_tensor().to(device), batch["label"].as_tensor().to(device)
    times = []
    for i in range(steps + 1):  # the first is a warm-up
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--setting", default="gpu", choices=["gpu", "cpu-demo"])
    ap.add_argument("--batch-size", type=int, default=2, help="films a step (train.json's batch_size)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="timed loader epochs")
    ap.add_argument("--steps", type=int, default=2, help="timed training steps (after one warm-up)")
    ap.add_argument("--device", default="cuda:0" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="CI mode: 8 women at 256 x 160, 64 x 64 patches, 1 round")
    a = ap.parse_args(argv)
    setting = "quick" if a.quick else a.setting
    if a.quick:
        a.rounds, a.steps = 1, 1
    image_size, cases, downsample, side, per_film = SETTINGS[setting]

    from monai.data import DataLoader

    from monai_cbis.transforms import cached_dataset, get_preset

    preset = get_preset("highres", downsample=downsample, patch_size=[side, side], num_samples=per_film)
    per_step = a.batch_size * per_film
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        items = _items(tmp, image_size, cases)
        written = time.perf_counter() - t0
        cache = os.path.join(tmp, "cache")
        det = cached_dataset(items, preset.inference(), cache)
        t0 = time.perf_counter()
        shapes = [tuple(det[i]["image"].shape[1:]) for i in range(len(det))]
        fill = (time.perf_counter() - t0) / len(det)
        t0 = time.perf_counter()
        for i in range(len(det)):
            det[i]
        read = (time.perf_counter() - t0) / len(det)
        train = cached_dataset(items, preset.train(), cache)
        loader = DataLoader(train, batch_size=a.batch_size, shuffle=True, num_workers=a.workers,
                            persistent_workers=a.workers > 0, drop_last=True)  # fmt: skip
        _epoch(loader)  # warm-up: worker start-up, first allocations
        rates = []
        for _ in range(a.rounds):
            n, dt = _epoch(loader)
            rates.append(n / dt)
        batch = next(iter(loader))
        del loader
        step = _step_seconds(batch, torch.device(a.device), a.steps)

    films = "full-size (about 5000 x 3000)" if image_size is None else f"about {image_size[0]} x {image_size[1]}"
    mean_shape = tuple(round(statistics.mean(s[k] for s in shapes)) for k in range(2))
    print(f"setting {setting}: {len(items)} training films, {films}, written in {written:.0f} s; downsample "
          f"{downsample} -> cached films of about {mean_shape[1]} x {mean_shape[0]}; patches {side} x {side}, "
          f"{per_film} a film, batch {a.batch_size} films = {per_step} patches a step")  # fmt: skip
    print(f"(1) cache: {fill:.2f} s a film to fill (first pass), {read * 1000:.1f} ms a film to read")
    print(f"(2) loader, {a.workers} workers: {max(rates):.1f} patches/s best, {statistics.median(rates):.1f} median "
          f"({a.rounds} epochs); it could feed {max(rates) / per_step:.2f} steps/s")  # fmt: skip
    print(f"(3) training step on {a.device} (torch threads {torch.get_num_threads()}): {min(step):.3f} s best, "
          f"{statistics.median(step):.3f} s median ({a.steps} steps) = {1 / min(step):.2f} steps/s")  # fmt: skip
    feed, need = max(rates) / per_step, 1 / min(step)
    which = "the loader" if feed < need else "the network"
    print(f"bottleneck: {which} (loader feeds {feed:.2f} steps/s, the step allows {need:.2f} steps/s)")
    print(f"a GPU could be fed {feed:.2f} steps/s ({max(rates):.1f} patches/s) by this {a.workers}-worker loader")
    return 0


if __name__ == "__main__":
    sys.exit(main())
