"""python -m monai_cbis: synth, index, verify, and clear errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

from monai_cbis.cli import main


def test_synth_then_index_round_trip(tmp_path, capsys):
    root = tmp_path / "cbis"
    assert main(["synth", str(root), "--layout", "nbia", "--cases", "10", "--seed", "3"]) == 0
    out = tmp_path / "dl.json"
    assert main(["index", str(root), "--out", str(out), "--level", "abnormality", "--task", "both"]) == 0
    printed = capsys.readouterr().out
    assert "items per section" in printed and "skipped by reason" in printed and "mask_wrong_size" in printed
    dl = json.loads(out.read_text())
    assert dl["level"] == "abnormality" and dl["layout"] == "nbia" and dl["training"] and dl["test"]
    assert all(s["reason"] for s in dl["skipped"])


def test_official_split_warning_is_printed(tmp_path, capsys):
    root = tmp_path / "cbis"
    main(["synth", str(root), "--cases", "10"])
    assert main(["index", str(root), "--out", str(tmp_path / "o.json"), "--split", "official"]) == 0
    assert "women on both the training and the test side" in capsys.readouterr().err


def test_verify_exit_status_and_report(tmp_path, capsys):
    root = tmp_path / "cbis"
    main(["synth", str(root), "--cases", "10"])
    report = tmp_path / "report.json"
    assert main(["verify", str(root), "--out", str(report)]) == 1  # the synthetic set has wrong-size masks
    assert json.loads(report.read_text())["problems_by_reason"]["mask_wrong_size"] >= 1


def test_errors_are_one_line_without_traceback(tmp_path):
    for args in (["index", str(tmp_path / "missing"), "--out", "x.json"], ["verify", str(tmp_path)]):
        proc = subprocess.run([sys.executable, "-m", "monai_cbis", *args], capture_output=True, text=True,
                              cwd=tmp_path)  # fmt: skip
        assert proc.returncode == 2
        assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    bad = subprocess.run([sys.executable, "-m", "monai_cbis", "synth", str(tmp_path / "s"), "--layout", "zip"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "invalid choice: 'zip'" in bad.stderr
