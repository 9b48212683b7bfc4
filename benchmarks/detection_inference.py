"""Seconds and peak resident memory per full-size film of the retinanet_detection bundle's inference on the CPU.

Synthetic films of about 5000 x 3000 pixels (``make_synthetic_cbis(full_size=True)``, written by a child process so
that their rendering does not count in this process's peak) go through the bundle's own ``inference.json``: reading
the DICOM, breast crop, resize to ``--long-side``, CLAHE, the detector, boxes mapped back onto the film, the JSON and
the overlay PNG written. The weights make every anchor a certain lesion, so each film carries the most boxes the
detector keeps (``detections_per_img``, 100) through post-processing and writing: an upper bound on a trained
model's time (the network's own cost does not depend on its weights). Each film's time runs from the loader fetching
it to its outputs written; the peak resident set size is the process's own high-water mark (``ru_maxrss``) after the
run, start-up and network included.

    python benchmarks/detection_inference.py                 # full-size films, long side 1024 (the default)
    python benchmarks/detection_inference.py --quick         # small films, long side 128 (CI)
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
CONFIG = os.path.join(REPO, "bundles", "retinanet_detection", "configs", "inference.json")
META = os.path.join(REPO, "bundles", "retinanet_detection", "configs", "metadata.json")


def _write_films(out: str, films: int, image_size) -> None:
    """``films`` full mammograms of a synthetic collection, copied flat into ``out``."""
    from monai_cbis.data import make_synthetic_cbis
    from monai_cbis.data.items import section_items

    coll = make_synthetic_cbis(os.path.join(out, "cbis"), layout="classic", cases=8, seed=0,
                               full_size=image_size is None, image_size=image_size)  # fmt: skip
    os.makedirs(os.path.join(out, "films"))
    for i, item in enumerate(section_items(coll.root, "test", task="both", level="image")[:films]):
        shutil.copy(item["image"], os.path.join(out, "films", f"film{i}.dcm"))
    shutil.rmtree(os.path.join(out, "cbis"))


def _save_weights(parser, bundle_root: str) -> None:
    """``models/model.pt``: the bundle's network with every anchor scoring about 0.98 (classification bias 4)."""
    import torch

    net = parser.get_parsed_content("network_def")
    with torch.no_grad():
        net.classification_head.cls_logits.weight.zero_()
        net.classification_head.cls_logits.bias.fill_(4.0)
    os.makedirs(os.path.join(bundle_root, "models"), exist_ok=True)
    torch.save(net.state_dict(), os.path.join(bundle_root, "models", "model.pt"))


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--films", type=int, default=3)
    ap.add_argument("--long-side", type=int, default=1024)
    ap.add_argument("--quick", action="store_true", help="CI mode: 640 x 400 films, long side 128, one film")
    a = ap.parse_args(argv)
    image_size = None
    if a.quick:
        a.films, a.long_side, image_size = 1, 128, (640, 400)

    import torch
    from ignite.engine import Events
    from monai.bundle import ConfigWorkflow

    with tempfile.TemporaryDirectory() as tmp:
        child = multiprocessing.get_context("spawn").Process(target=_write_films, args=(tmp, a.films, image_size))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise RuntimeError(f"writing the synthetic films failed (exit code {child.exitcode})")
        films, bundle_root = os.path.join(tmp, "films"), os.path.join(tmp, "bundle")
        wf = ConfigWorkflow(config_file=CONFIG, meta_file=META, logging_file=False, workflow_type="infer",
                            bundle_root=bundle_root, dataset_dir=films,
                            output_dir=os.path.join(tmp, "out"), long_side=a.long_side,
                            device=torch.device("cpu"))  # fmt: skip
        _save_weights(wf.parser, bundle_root)
        wf.initialize()
        evaluator = wf.parser.get_parsed_content("evaluator")
        times: list[float] = []  # per film: fetched by the loader -> outputs written (the writers ran before us)
        marks: dict[str, float] = {}
        evaluator.add_event_handler(Events.GET_BATCH_STARTED, lambda _: marks.update(t0=time.perf_counter()))
        evaluator.add_event_handler(
            Events.ITERATION_COMPLETED, lambda _: times.append(time.perf_counter() - marks["t0"])
        )
        rss_before = _peak_rss_mib()
        wf.run()
        written = sorted(f for f in os.listdir(os.path.join(tmp, "out")) if f.endswith(".json") and f != "skipped.json")
        wf.finalize()
    if len(written) != a.films:
        raise RuntimeError(f"expected {a.films} box files, found {written}")
    rows, cols = (5000, 3000) if image_size is None else image_size
    print(f"CPU threads {torch.get_num_threads()}, {a.films} films of about {rows} x {cols}, long side {a.long_side}")
    print(f"seconds per film: {min(times):.2f} best, {sum(times) / len(times):.2f} mean "
          f"(films: {', '.join(f'{t:.2f}' for t in times)})")  # fmt: skip
    peak = _peak_rss_mib()
    print(f"peak resident memory: {peak:.0f} MiB (before the run: {rss_before:.0f} MiB; target < 2048 MiB: "
          f"{'met' if peak < 2048 else 'NOT met'})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
