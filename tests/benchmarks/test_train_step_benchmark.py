"""The trainer-vs-plain-loop benchmark runs in reduced mode so it cannot rot (its ratio is printed, not asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_train_step_benchmark_quick(tmp_path):
    env = {**os.environ, "MONAI_CBIS_CACHE": str(tmp_path)}
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "train_step.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    for side in ("plain PyTorch loop", "bundle trainer", "plain, channels-last"):  # absolute rates, best and median
        assert re.search(side + r":\s+\d+\.\d+ images/s, median \d+\.\d+", proc.stdout), proc.stdout
    assert re.search(r"ratio bundle/plain: \d+\.\d+", proc.stdout)
    assert re.search(r"ratio channels-last/plain: \d+\.\d+", proc.stdout)
