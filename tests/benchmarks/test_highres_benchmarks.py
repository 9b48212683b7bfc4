"""The high-resolution benchmarks (issue 14) run in reduced mode so they cannot rot (their figures are printed, not
asserted): patch sampling against a training step, and sliding-window inference against unet_effb3's."""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _quick(script: str, tmp_path) -> str:
    env = {**os.environ, "MONAI_CBIS_CACHE": str(tmp_path), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), "--quick"],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_highres_patches_benchmark_quick(tmp_path):
    out = _quick("highres_patches.py", tmp_path)
    assert re.search(r"\(1\) cache: \d+\.\d+ s a film to fill", out), out
    assert re.search(r"\(2\) loader, 2 workers: \d+\.\d patches/s best", out), out
    assert re.search(r"\(3\) training step on cpu \(torch threads 1\): \d+\.\d+ s best", out), out
    assert re.search(r"bottleneck: the (loader|network) \(loader feeds \d+\.\d+ steps/s", out), out
    assert re.search(r"a GPU could be fed \d+\.\d+ steps/s", out), out


def test_sliding_window_benchmark_quick(tmp_path):
    out = _quick("sliding_window.py", tmp_path)
    for bundle in ("unet_highres", "unet_effb3"):
        assert re.search(rf"{bundle} \(.*torch threads 1\):\n  seconds per film: \d+\.\d+ best", out), out
    assert len(re.findall(r"peak resident memory: \d+ MiB \(before the run: \d+ MiB; target < 2048 MiB", out)) == 2
