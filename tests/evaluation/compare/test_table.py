"""render_markdown / render_json (through comparison_markdown): the paper columns, the baseline beside accuracy, n/a."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from ignite.engine import Engine

from monai_cbis.evaluation import ClassificationReportHandler, collect_reports, comparison_markdown
from monai_cbis.evaluation.compare import comparison_rows, render_json, render_markdown


def test_tables_paper_column_and_baseline(tmp_path, monkeypatch, rep):
    monkeypatch.chdir(tmp_path)
    paths = rep.make_tree(tmp_path)
    entries = collect_reports(list(paths.values()))
    md = comparison_markdown(entries)
    assert "not results of this run" in md and "4 decimals" in md

    seg = rep.table_rows(md, "Segmentation")
    m = entries[0].metrics
    effb3 = seg["unet_effb3"]
    assert effb3["n images"] == "6"
    assert effb3["lesion Dice"] == f"{m['lesion_dice']:.4f}" and effb3["lesion IoU"] == f"{m['lesion_iou']:.4f}"
    assert effb3["Dice incl. background"] == f"{m['mean_dice_incl_background']:.4f}"
    assert effb3["IoU incl. background"] == f"{m['mean_iou_incl_background']:.4f}"
    assert effb3["pixel accuracy"] == f"{m['pixel_accuracy']:.4f}"
    assert effb3["paper Dice / IoU"] == "0.9680 / 0.9560 (paper A)"
    assert effb3["paper figure compares with"] == "Dice / IoU incl. background"
    assert seg["unet_roi"]["paper Dice / IoU"] == "0.8402 / 0.7246 (paper B)"
    assert seg["unet_roi"]["paper figure compares with"] == "lesion Dice / IoU"
    assert effb3["source"] == os.path.join("bundles", "unet_effb3", "eval")

    cls = rep.table_rows(md, "Classification")
    header = md.split("## Classification\n", 1)[1].strip().splitlines()[0]
    assert "| accuracy | majority baseline |" in header  # the baseline sits beside the accuracy
    vgg, c = cls["vgg16_classification"], entries[2].metrics
    assert vgg["accuracy"] == f"{c['accuracy']:.4f}"
    assert vgg["majority baseline"] == f"{c['majority_baseline_accuracy']:.4f} (all benign)" == "0.6500 (all benign)"
    for col, key in (("balanced accuracy", "balanced_accuracy"), ("AUC", "roc_auc"), ("sensitivity", "sensitivity")):
        assert vgg[col] == f"{c[key]:.4f}"
    assert vgg["paper accuracy, pretrained"] == "0.7739 (paper B)"
    assert vgg["paper accuracy, from scratch"] == "0.7156"
    assert vgg["n cases"] == "40"


def test_unknown_model_gets_empty_paper_cells(tmp_path, rep):
    paths = rep.make_tree(tmp_path)
    md = comparison_markdown(collect_reports([paths["my_cnn"]]))
    row = rep.table_rows(md, "Classification")["my_cnn"]
    assert row["paper accuracy, pretrained"] == "" and row["paper accuracy, from scratch"] == ""
    assert "## Segmentation" not in md


def test_undefined_scores_print_na(tmp_path, rep):
    m = rep.cls_metrics(n=5, n_malignant=0, model="resnet50_classification")  # one class: AUC and sensitivity None
    assert m["roc_auc"] is None
    row = rep.table_rows(comparison_markdown(collect_reports([rep.put(tmp_path / "m.json", m)])), "Classification")
    assert row["resnet50_classification"]["AUC"] == "n/a" and row["resnet50_classification"]["sensitivity"] == "n/a"


def test_data_column_only_when_a_report_has_data(tmp_path, rep):
    rep.put(tmp_path / "a" / "metrics.json", rep.seg_metrics(model="unet_roi", data="synthetic demo, test section"))
    rep.put(tmp_path / "b" / "metrics.json", rep.seg_metrics(model="deeplabv3plus_r50"))
    entries = collect_reports([tmp_path / "a", tmp_path / "b"])
    assert entries[0].data == "synthetic demo, test section" and entries[1].data is None
    rows = rep.table_rows(comparison_markdown(entries), "Segmentation")
    assert rows["unet_roi"]["data"] == "synthetic demo, test section" and rows["deeplabv3plus_r50"]["data"] == ""
    assert "| data |" not in comparison_markdown(entries[1:])


def test_renderers_format_rows_they_are_given(tmp_path, rep):
    rows = comparison_rows(collect_reports(list(rep.make_tree(tmp_path).values())))
    rows["classification"][0]["accuracy"] = 0.12345  # a renderer shows the rows, it computes nothing
    rows["classification"][0]["paper"] = None
    md = render_markdown(rows)
    vgg = rep.table_rows(md, "Classification")["vgg16_classification"]
    assert vgg["accuracy"] == "0.1235" and vgg["paper accuracy, pretrained"] == ""
    doc = render_json(rows, {"markdown": "comparison.md"})
    assert doc["classification"] == rows["classification"] and doc["files"] == {"markdown": "comparison.md"}
    assert "not results of this run" in doc["note"] and "*" not in doc["note"]
    assert render_markdown({"segmentation": [], "classification": []}).endswith("No reports.\n")


def test_classification_handler_model_name(tmp_path, rep):
    out = tmp_path / "cls"
    batches = [[{"label": y, "pred": np.array([1 - p, p])}] for y, p in ((0, 0.2), (1, 0.7), (0, 0.6), (0, 0.1))]
    engine = Engine(lambda e, batch: batch)  # output = the batch: a list of per-item dicts, as MONAI decollates
    ClassificationReportHandler(str(out), model_name="densenet121_classification").attach(engine)
    engine.run(batches, max_epochs=1)
    m = json.loads((out / "metrics.json").read_text())
    assert m["model"] == "densenet121_classification" and m["accuracy"] == 0.75
    row = rep.table_rows(comparison_markdown(collect_reports([out])), "Classification")["densenet121_classification"]
    assert row["accuracy"] == "0.7500" and row["majority baseline"] == "0.7500 (all benign)"
    assert row["paper accuracy, pretrained"] == "0.7692 (paper B)" and row["paper accuracy, from scratch"] == "0.6131"


@pytest.mark.parametrize("kind", ["segmentation", "classification"])
def test_every_published_figure_is_shown(kind, rep, tmp_path):
    from monai_cbis.evaluation import published_references

    for name, ref in published_references(kind).items():
        metrics = rep.seg_metrics(model=name) if kind == "segmentation" else rep.cls_metrics(model=name)
        row = rep.table_rows(comparison_markdown(collect_reports([rep.put(tmp_path / name / "m.json", metrics)])),
                             kind.capitalize())[name]  # fmt: skip
        cell = row["paper Dice / IoU" if kind == "segmentation" else "paper accuracy, pretrained"]
        assert cell == " / ".join(f"{v:.4f}" for v in ref["figures"].values()) + f" (paper {ref['paper']})"
