"""The preprocessing benchmark runs end to end in its reduced mode (small images, few iterations)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "preprocess.py"


def test_quick_benchmark_prints_every_measure_and_target(tmp_path):
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    for measure in ("(a)  floor", "(a') floor", "(b)  ours", "(c)  naive", "(d)  epoch served from the cache"):
        assert measure in text
    for target in ("(b) / (a)  <= 2", "(c) / (b)  >= 10", "(b) / (d)  >= 20", "peak MB per worker < 1024"):
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(target))
        assert line.rstrip().endswith(("met", "MISSED"))
        float(line.split()[-2])  # the ratio itself is printed
    assert "quick mode" in text
