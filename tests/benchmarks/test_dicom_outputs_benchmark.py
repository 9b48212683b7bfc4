"""The DICOM outputs benchmark runs in its reduced mode so it cannot rot (its figures are not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "dicom_outputs.py"


def test_quick_benchmark_prints_every_measure():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"film 480 x 300: DICOM SEG first write .* \d+\.\d+ s", proc.stdout)
    assert re.search(r"DICOM SEG write \d+\.\d+ s, \d+\.\d+ MB", proc.stdout)
    assert re.findall(r"DICOM SR of (\d+) boxes \d+\.\d+ s", proc.stdout) == ["2", "5"]
