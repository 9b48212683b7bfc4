"""The indexing benchmark runs in reduced mode so it cannot rot (its figures are not asserted: no timed tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_index_speed_benchmark_quick():
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "index_speed.py"), "--quick", "--full-cases", "8"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"ratio baseline/ours \d+\.\d+x", proc.stdout)
    assert re.search(r"projected for the real 10,239 files: ours \d+\.\d+ s", proc.stdout)
