"""write_comparison: three files from one set of rows, the same rows in each; nothing written without reports."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from monai_cbis.evaluation import collect_reports, comparison_markdown, write_comparison
from monai_cbis.evaluation.compare import render_figure, render_markdown
from monai_cbis.evaluation.compare import write as write_module
from monai_cbis.zoo.specs import SPECS


def test_write_comparison_files_json_and_png(tmp_path, rep):
    paths = rep.make_tree(tmp_path / "tree")
    entries = collect_reports(list(paths.values()))
    files = write_comparison(entries, tmp_path / "out")
    assert files == {k: str(tmp_path / "out" / f"comparison.{ext}") for k, ext in
                     (("markdown", "md"), ("json", "json"), ("png", "png"))}  # fmt: skip
    assert sorted(os.listdir(tmp_path / "out")) == ["comparison.json", "comparison.md", "comparison.png"]
    assert (tmp_path / "out" / "comparison.md").read_text() == comparison_markdown(entries)

    data = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert [r["model"] for r in data["segmentation"]] == ["unet_effb3", "unet_roi"]
    assert [r["model"] for r in data["classification"]] == ["vgg16_classification", "my_cnn"]
    effb3, vgg, mine = data["segmentation"][0], data["classification"][0], data["classification"][1]
    assert effb3["lesion_dice"] == entries[0].metrics["lesion_dice"]  # not rounded
    # the row's paper is the reference of the bundle's spec (figures keyed by the metrics they compare with)
    assert list(effb3["paper"]["figures"]) == ["mean_dice_incl_background", "mean_iou_incl_background"]
    assert effb3["paper"] == SPECS["unet_effb3"].published
    assert effb3["model_from"] == "bundle" and effb3["bundle_title"] == rep.METADATA_NAME
    assert vgg["majority_baseline_accuracy"] == 0.65 and vgg["majority_class"] == "benign"
    assert vgg["paper"]["figures"]["accuracy"] == 0.7739 and mine["paper"] is None
    assert "not results of this run" in data["note"]

    with Image.open(files["png"]) as im:  # a real PNG: two stacked panels, 4.3 in each at 100 dpi
        im.verify()
    with Image.open(files["png"]) as im:
        assert im.format == "PNG" and im.size[1] == 860 and im.size[0] >= 650


def test_one_kind_gives_one_panel(tmp_path, rep):
    rep.put(tmp_path / "a" / "metrics.json", rep.seg_metrics(model="unet_roi", data="synthetic demo, test section"))
    rep.put(tmp_path / "b" / "metrics.json", rep.seg_metrics(model="deeplabv3plus_r50"))
    files = write_comparison(collect_reports([tmp_path / "a", tmp_path / "b"]), tmp_path / "out")
    with Image.open(files["png"]) as im:
        assert im.size == (650, 430)


def test_undefined_scores_are_written(tmp_path, rep):
    m = rep.cls_metrics(n=5, n_malignant=0, model="resnet50_classification")  # one class: AUC and sensitivity None
    write_comparison(collect_reports([rep.put(tmp_path / "m.json", m)]), tmp_path / "out")  # the chart copes too
    assert json.loads((tmp_path / "out" / "comparison.json").read_text())["classification"][0]["roc_auc"] is None


def test_rows_are_computed_once_and_every_file_shows_them(tmp_path, rep, monkeypatch):
    calls = []
    real = write_module.comparison_rows
    monkeypatch.setattr(write_module, "comparison_rows", lambda entries: calls.append(1) or real(entries))
    entries = collect_reports(list(rep.make_tree(tmp_path / "tree").values()))
    files = write_comparison(entries, tmp_path / "out")
    assert len(calls) == 1

    data = json.loads((tmp_path / "out" / "comparison.json").read_text())
    rows = {k: data[k] for k in ("segmentation", "classification")}
    # the JSON's rows are exactly what the Markdown and the chart were drawn from
    assert render_markdown(rows) == (tmp_path / "out" / "comparison.md").read_text()
    render_figure(rows).savefig(tmp_path / "again.png", format="png", dpi=100)
    with Image.open(files["png"]) as a, Image.open(tmp_path / "again.png") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_nothing_written_without_reports(tmp_path):
    with pytest.raises(ValueError, match="No reports to compare"):
        write_comparison([], tmp_path / "out")
    assert not (tmp_path / "out").exists()
