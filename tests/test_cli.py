"""python -m monai_cbis: synth, index, verify, report, and clear errors with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

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


def test_verify_names_each_problem_file_and_writes_beside_the_collection(tmp_path, capsys, monkeypatch):
    from monai_cbis.data import load_synthetic_collection

    root = tmp_path / "cbis"
    main(["synth", str(root), "--cases", "10"])
    rows = [r for r in load_synthetic_collection(root).rows if not r.mask_wrong_size]
    truncated, not_dicom = rows[0].full_image, rows[-1].mask
    with open(truncated, "r+b") as f:
        f.truncate(os.path.getsize(truncated) // 2)
    with open(not_dicom, "w") as f:
        f.write("not a DICOM file")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["verify", str(root)]) == 1
    out = capsys.readouterr().out
    report = tmp_path / "cbis_verify_report.json"  # beside the collection, not in the current folder
    assert f"wrote {report}" in out and report.is_file() and not os.listdir(work)
    assert f"  {truncated}: image_unreadable (truncated DICOM (" in out
    assert f"  {not_dicom}: file_unreadable (not a DICOM file" in out
    problems = json.loads(report.read_text())["problems"]
    assert len(problems) > 3

    monkeypatch.setattr("monai_cbis.cli._SHOWN_PROBLEMS", 2)
    assert main(["verify", str(root), "--out", str(tmp_path / "r.json")]) == 1
    shown = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    assert len(shown) == 3 and shown[-1] == f"  ... {len(problems) - 2} more in {tmp_path / 'r.json'}"


def test_errors_are_one_line_without_traceback(tmp_path):
    for args in (["index", str(tmp_path / "missing"), "--out", "x.json"], ["verify", str(tmp_path)]):
        proc = subprocess.run([sys.executable, "-m", "monai_cbis", *args], capture_output=True, text=True,
                              cwd=tmp_path)  # fmt: skip
        assert proc.returncode == 2
        assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    bad = subprocess.run([sys.executable, "-m", "monai_cbis", "synth", str(tmp_path / "s"), "--layout", "zip"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "invalid choice: 'zip'" in bad.stderr


def _reports(root):
    """A bundle folder (model from its folder name) and an evaluation folder with "model" in its metrics.json."""
    from monai_cbis.evaluation import classification_metrics, segmentation_metrics, summarize_segmentation

    label = np.zeros((1, 8, 8))
    label[0, 2:6, 2:6] = 1
    seg = summarize_segmentation([segmentation_metrics(label, label), segmentation_metrics(label, np.roll(label, 1))])
    bundle = root / "bundles" / "unet_effb3"
    (bundle / "configs").mkdir(parents=True)
    (bundle / "configs" / "metadata.json").write_text(json.dumps({"name": "U-Net, EfficientNet-B3"}))
    (bundle / "eval").mkdir()
    (bundle / "eval" / "metrics.json").write_text(json.dumps(seg))
    cls = {"model": "vgg16_classification", **classification_metrics([0, 0, 0, 1], [0.1, 0.6, 0.2, 0.9])}
    (root / "vgg16_eval").mkdir()
    (root / "vgg16_eval" / "metrics.json").write_text(json.dumps(cls))
    return [str(bundle), str(root / "vgg16_eval")]


def test_report_prints_the_table_and_writes_files(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["report", *_reports(tmp_path), "--output", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == (out / "comparison.md").read_text()  # stdout is the Markdown alone
    assert captured.out.startswith("# Model comparison") and "not results of this run" in captured.out
    assert "| unet_effb3 | - | 2 |" in captured.out and "0.9680 / 0.9560 (paper A)" in captured.out  # - : no geometry
    assert "| vgg16_classification | 4 | 0.7500 | 0.7500 (all benign) |" in captured.out
    assert f"wrote {out / 'comparison.png'}" in captured.err
    data = json.loads((out / "comparison.json").read_text())
    assert [r["model"] for r in data["segmentation"] + data["classification"]] == ["unet_effb3", "vgg16_classification"]
    with Image.open(out / "comparison.png") as im:
        assert im.format == "PNG" and im.size[0] > 0


def test_report_default_output_folder(tmp_path):
    paths = _reports(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "monai_cbis", "report", *paths], capture_output=True, text=True,
                          cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "comparison").iterdir()) == [
        "comparison.json",
        "comparison.md",
        "comparison.png",
    ]


def test_report_errors_exit_2_with_one_line(tmp_path):
    paths = _reports(tmp_path)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "metrics.json").write_text("{not json")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "metrics.json").write_text(json.dumps({"loss": 0.1}))
    cases = {
        str(tmp_path / "missing"): "No such file or folder",
        str(tmp_path / "bundles"): "looked for",  # a folder with neither metrics.json nor eval/
        str(tmp_path / "bad"): "is not valid JSON",
        str(tmp_path / "other"): "expected the key 'lesion_dice'",
    }
    for path, message in cases.items():
        proc = subprocess.run([sys.executable, "-m", "monai_cbis", "report", *paths, path, "--output",
                               str(tmp_path / "out")], capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("error: ") and message in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""
    assert not (tmp_path / "out").exists()  # nothing written when a path is bad
    proc = subprocess.run([sys.executable, "-m", "monai_cbis", "report"], capture_output=True, text=True)
    assert proc.returncode == 2 and "the following arguments are required: PATH" in proc.stderr
