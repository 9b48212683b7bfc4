"""The loader benchmark runs end to end in its reduced mode and prints every measure against the 800 images/s
target (the figures themselves depend on the machine and are not asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "loader.py"


def test_quick_loader_benchmark_prints_rates_against_the_target(tmp_path):
    env = {**os.environ, "MONAI_CBIS_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--device", "cpu"], capture_output=True, text=True,
                         timeout=600, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    assert [ln.split(":")[0] for ln in text.splitlines() if ln.startswith("== ")] == [
        "== full_mammogram 64",
        "== roi_crop 128",
    ]
    loaders = [f"{backend}, DataLoader, {w} workers" for backend in ("monai", "opencv") for w in (0, 2)]
    for loader in [*loaders, "augment_device=cpu, batches on it"]:
        rows = [ln for ln in text.splitlines() if ln.strip().startswith(loader)]
        assert len(rows) == 2, text  # one per preset
        assert all(
            re.search(r"\d+\.\d / +\d+\.\d +(met|NOT met).* \d+\.\d\d CPU-ms +\d+ on idle cores", r) for r in rows
        )
    assert text.count("against the 800 target") == 2 and text.count("cache read, CPU ms per image: from disk") == 2
    assert re.search(r"RandRotated \d+\.\d\d", text) and re.search(
        r"OpenCV pass at the preset's probabilities \d", text
    )
    assert re.search(r"collate_without_meta \d+\.\d\d", text) and text.count("peak memory per worker") == 2
