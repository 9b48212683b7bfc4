"""How fast is indexing? Header-only indexing against a baseline that decodes every file, in one run.

Two synthetic CBIS-DDSM collections (classic layout unless ``--layout``):

1. full-size images (about 5000 x 3000, 16-bit, like the real ones), a few women: on the same files, time
   ``ours`` (:func:`monai_cbis.data.index_collection`: headers only, threads) against ``baseline`` (decode every
   file, as an indexer that checks mask content would) and print the ratio;
2. small images, many women (about 3,000 files): time ``ours`` at scale (CSV parsing, layout walking, headers) and
   project it to the real collection's 10,239 files (header cost does not depend on image size).

    python benchmarks/index_speed.py                        # ~1 min
    python benchmarks/index_speed.py --quick                # small, for CI
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

REAL_FILES = 10_239


def _count_images(root: str) -> list[str]:
    out = []
    for dirpath, _, names in os.walk(root):
        out += [os.path.join(dirpath, n) for n in names if n.lower().endswith((".dcm", ".jpg", ".png"))]
    return out


def _time_both(root: str) -> tuple[int, float, float, int]:
    from monai_cbis.data import index_collection, read_array

    files = _count_images(root)
    t0 = time.perf_counter()
    index = index_collection(root)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    for f in files:
        read_array(f)
    t_base = time.perf_counter() - t0
    return len(files), t_ours, t_base, len(index.records)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=400, help="women in the at-scale collection (default 400)")
    ap.add_argument("--full-cases", type=int, default=8, help="women in the full-size collection (default 8)")
    ap.add_argument("--layout", default="classic", choices=["classic", "nbia", "kaggle"])
    ap.add_argument("--quick", action="store_true", help="CI mode: 12 women, 1200 x 750 'full-size' images")
    ap.add_argument("--workdir", default=None, help="where to write the collections (default: a temporary folder)")
    a = ap.parse_args(argv)

    from monai_cbis.data.synthetic import make_synthetic_cbis

    cases = 12 if a.quick else a.cases
    big = {"image_size": (1200, 750)} if a.quick else {"full_size": True}
    with tempfile.TemporaryDirectory(dir=a.workdir) as tmp:
        full = make_synthetic_cbis(os.path.join(tmp, "full"), layout=a.layout, cases=a.full_cases, seed=0, **big)
        n_full, ours_full, base_full, _ = _time_both(full.root)
        small = make_synthetic_cbis(os.path.join(tmp, "many"), layout=a.layout, cases=cases, seed=0,
                                    image_size=(320, 200))  # fmt: skip
        n, ours, _, usable = _time_both(small.root)

    size = "1200 x 750" if a.quick else "~5000 x 3000"
    print(f"[{size} images] {n_full} files: ours {ours_full:.2f} s, baseline (decode all) {base_full:.2f} s, "
          f"ratio baseline/ours {base_full / ours_full:.1f}x")  # fmt: skip
    print("  (warm page cache: from a cold disk the baseline reads every byte, ours a few KB per file)")
    print(f"[at scale] {a.layout} layout, {cases} women, {len(small.rows)} CSV rows, {n} files: ours {ours:.2f} s "
          f"= {n / ours:.0f} files/s, {usable} rows usable")  # fmt: skip
    print(f"projected for the real {REAL_FILES:,} files: ours {REAL_FILES * ours / n:.1f} s (target: well under 60 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
