"""The detector's benchmarks run in reduced mode so they cannot rot (their figures are printed, not asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _quick(script: str, tmp_path) -> str:
    env = {**os.environ, "MONAI_CBIS_CACHE": str(tmp_path)}
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), "--quick"],
                          capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_detection_train_step_benchmark_quick(tmp_path):
    out = _quick("detection_train_step.py", tmp_path)
    assert re.search(r"plain PyTorch loop: \d+\.\d+ images/s", out)
    assert re.search(r"bundle trainer: +\d+\.\d+ images/s", out)
    assert re.search(r"ratio bundle/plain: \d+\.\d+", out)


def test_detection_inference_benchmark_quick(tmp_path):
    out = _quick("detection_inference.py", tmp_path)
    assert re.search(r"seconds per film: \d+\.\d+ best", out)
    assert re.search(r"peak resident memory: \d+ MiB", out)
