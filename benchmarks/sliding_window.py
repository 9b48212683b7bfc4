"""Seconds and peak resident memory per full-size film of unet_highres's sliding-window inference on the CPU, and the
same for unet_effb3's 224 x 224 pipeline on the same films.

Synthetic films of about 5000 x 3000 pixels (``make_synthetic_cbis(full_size=True, realistic_lesions=True)``, the
test section, written by a child process) go through each bundle's own ``inference.json``: reading the DICOM, breast
crop, resize (unet_highres: every side divided by ``--downsample``, 4 by default, about 1250 x 750; unet_effb3: 224 x
224), CLAHE, the network (unet_highres: MONAI's ``SlidingWindowInferer`` with ``--patch-size`` windows, 25 % overlap,
Gaussian blending, 4 windows a pass), the mask mapped back onto the original film and written as a PNG. Random
weights (a network's cost does not depend on them). Each bundle runs in its own process, so that its peak resident
set size (``ru_maxrss``, start-up and network included) is its own; each film's time runs from the loader fetching it
to its PNG written, in wall-clock and in the process's CPU seconds (all its threads). Torch's threads follow
``OMP_NUM_THREADS`` (printed). The target: unet_highres under 2 GB resident.

    python benchmarks/sliding_window.py                      # 3 full-size films, downsample 4, 512 x 512 windows
    python benchmarks/sliding_window.py --quick              # one 640 x 400 film, small windows (CI)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_MIB = 2048


def _write_films(out: str, films: int, image_size) -> None:
    """``films`` full mammograms of the test section, copied flat into ``out/films``."""
    from monai_cbis.data import make_synthetic_cbis
    from monai_cbis.data.items import section_items

    coll = make_synthetic_cbis(os.path.join(out, "cbis"), layout="classic", cases=8, seed=0, realistic_lesions=True,
                               full_size=image_size is None, image_size=image_size)  # fmt: skip
    os.makedirs(os.path.join(out, "films"))
    for i, item in enumerate(section_items(coll.root, "test", task="both", level="image")[:films]):
        shutil.copy(item["image"], os.path.join(out, "films", f"film{i}.dcm"))
    shutil.rmtree(os.path.join(out, "cbis"))


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _run_bundle(bundle: str, overrides: dict, films: str, tmp: str, queue) -> None:
    """Run ``bundle``'s inference.json on ``films`` (a child process); put its film times and peak RSS on ``queue``."""
    import torch
    from ignite.engine import Events
    from monai.bundle import ConfigWorkflow

    configs = os.path.join(REPO, "bundles", bundle, "configs")
    root, out = os.path.join(tmp, bundle), os.path.join(tmp, f"{bundle}_out")
    wf = ConfigWorkflow(config_file=os.path.join(configs, "inference.json"), logging_file=False,
                        meta_file=os.path.join(configs, "metadata.json"), workflow_type="infer", bundle_root=root,
                        dataset_dir=films, output_dir=out, device=torch.device("cpu"), **overrides)  # fmt: skip
    os.makedirs(os.path.join(root, "models"), exist_ok=True)
    torch.save(wf.parser.get_parsed_content("network_def").state_dict(), os.path.join(root, "models", "model.pt"))
    wf.initialize()
    evaluator = wf.parser.get_parsed_content("evaluator")
    wall: list[float] = []
    cpu: list[float] = []
    marks: dict[str, float] = {}

    def start(_):
        marks.update(t0=time.perf_counter(), c0=time.process_time())

    def stop(_):
        wall.append(time.perf_counter() - marks["t0"])
        cpu.append(time.process_time() - marks["c0"])

    evaluator.add_event_handler(Events.GET_BATCH_STARTED, start)
    evaluator.add_event_handler(Events.ITERATION_COMPLETED, stop)
    before = _peak_rss_mib()
    wf.run()
    wf.finalize()
    pngs = [f for _, _, fs in os.walk(out) for f in fs if f.endswith(".png")]
    queue.put({"wall": wall, "cpu": cpu, "peak": _peak_rss_mib(), "before": before, "pngs": len(pngs),
               "threads": torch.get_num_threads()})  # fmt: skip


def _measure(bundle: str, overrides: dict, films: str, tmp: str) -> dict:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_run_bundle, args=(bundle, overrides, films, tmp, queue))
    child.start()
    result = queue.get(timeout=3600)
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"{bundle}'s inference failed (exit code {child.exitcode})")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--films", type=int, default=3)
    ap.add_argument("--downsample", type=int, default=4, help="unet_highres's working resolution (film / this)")
    ap.add_argument("--patch-size", type=int, default=512, help="unet_highres's sliding window side")
    ap.add_argument("--image-size", type=int, default=224, help="unet_effb3's working side")
    ap.add_argument("--quick", action="store_true", help="CI mode: one 640 x 400 film, downsample 2, 64 / 64")
    a = ap.parse_args(argv)
    image_size = None
    if a.quick:
        a.films, a.downsample, a.patch_size, a.image_size, image_size = 1, 2, 64, 64, (640, 400)

    runs = {
        "unet_highres": {"downsample": a.downsample, "patch_size": [a.patch_size] * 2},
        "unet_effb3": {"image_size": [a.image_size] * 2},
    }
    with tempfile.TemporaryDirectory() as tmp:
        child = multiprocessing.get_context("spawn").Process(target=_write_films, args=(tmp, a.films, image_size))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise RuntimeError(f"writing the synthetic films failed (exit code {child.exitcode})")
        films = os.path.join(tmp, "films")
        results = {name: _measure(name, overrides, films, tmp) for name, overrides in runs.items()}
    rows, cols = (5000, 3000) if image_size is None else image_size
    print(f"{a.films} films of about {rows} x {cols}, CPU")
    for name, r in results.items():
        if r["pngs"] != a.films or len(r["wall"]) != a.films:
            raise RuntimeError(f"{name}: expected {a.films} films and PNG masks, got {len(r['wall'])} and {r['pngs']}")
        setting = ", ".join(f"{k} {v}" for k, v in runs[name].items())
        wall, cpu = r["wall"], r["cpu"]
        print(f"{name} ({setting}; torch threads {r['threads']}):")
        print(f"  seconds per film: {min(wall):.2f} best, {sum(wall) / len(wall):.2f} mean wall-clock "
              f"(films: {', '.join(f'{t:.2f}' for t in wall)}); CPU {min(cpu):.2f} best, "
              f"{sum(cpu) / len(cpu):.2f} mean")  # fmt: skip
        verdict = f"target < {TARGET_MIB} MiB: {'met' if r['peak'] < TARGET_MIB else 'NOT met'}"
        print(f"  peak resident memory: {r['peak']:.0f} MiB (before the run: {r['before']:.0f} MiB; {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
