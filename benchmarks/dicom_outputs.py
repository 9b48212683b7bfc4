"""How long do the DICOM outputs take to write? A SEG over a full-size film and an SR of N boxes, in one run.

A synthetic 16-bit film of the real collection's size (4873 x 2969 unless ``--rows/--cols``) and a rectangular lesion
mask; times :func:`monai_cbis.outputs.write_dicom_seg` (the first call apart: it pays highdicom's start-up) and
:func:`monai_cbis.outputs.write_detection_sr` with 10 and 100 boxes (a detector keeps up to 100 a film), best of
``--repeats``; prints the SEG's size on disk.

    python benchmarks/dicom_outputs.py                 # ~30 s on a 2-core CPU
    python benchmarks/dicom_outputs.py --quick         # small film, few boxes, for the tests
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from monai_cbis.data.synthetic.encode import DicomHeader, dicom_bytes
from monai_cbis.outputs import Algorithm, write_detection_sr, write_dicom_seg


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=4873)
    ap.add_argument("--cols", type=int, default=2969)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="a 480 x 300 film, 2 and 5 boxes, one repeat")
    args = ap.parse_args(argv)
    rows, cols, counts = (480, 300, (2, 5)) if args.quick else (args.rows, args.cols, (10, 100))
    repeats = 1 if args.quick else args.repeats
    uid = "1.2.826.0.1.3680043.8.498.77"
    header = DicomHeader(uid, uid + ".1", uid + ".2", "Mass-Test_P_00001_LEFT_CC", "full mammogram images", "L",
                         "20170829", 1, 16)  # fmt: skip
    mask = np.zeros((rows, cols), bool)
    mask[rows // 5 : rows // 5 + rows // 12, cols // 6 : cols // 6 + cols // 8] = True
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        film = Path(tmp) / "film.dcm"
        film.write_bytes(dicom_bytes(np.zeros((rows, cols), np.uint16), header))
        seg_path = os.path.join(tmp, "film_seg.dcm")

        def seg() -> None:
            write_dicom_seg(mask, film, seg_path, Algorithm("unet_roi", "0.1.0"))

        first = _best(seg, 1)
        print(f"film {rows} x {cols}: DICOM SEG first write (highdicom start-up) {first:.2f} s")
        print(f"  DICOM SEG write {_best(seg, repeats):.2f} s, {os.path.getsize(seg_path) / 1e6:.2f} MB")
        for n in counts:
            xy = rng.uniform(0, min(rows, cols) / 2, (n, 2))
            boxes = np.concatenate([xy, xy + rng.uniform(8, 64, (n, 2))], axis=1)
            scores = rng.uniform(0, 1, n)

            def sr(boxes=boxes, scores=scores, n=n) -> None:
                write_detection_sr(boxes, scores, ["mass"] * n, film, os.path.join(tmp, "film_sr.dcm"),
                                   Algorithm("retinanet_detection", "0.1.0"))  # fmt: skip

            print(f"  DICOM SR of {n} boxes {_best(sr, repeats):.2f} s")


if __name__ == "__main__":
    main()
