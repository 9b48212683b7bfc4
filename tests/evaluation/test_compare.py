"""collect_reports / write_comparison: model identity, the paper column, the baseline beside accuracy, errors.

The metrics.json files are made by the real summarize_segmentation / classification_metrics (and, for the
``model_name`` keyword, by the real report handlers on a tiny Ignite engine).
"""

from __future__ import annotations

import doctest
import json
import os
import re

import numpy as np
import pytest
from ignite.engine import Engine
from PIL import Image

from monai_cbis.evaluation import (
    PAPER_REFERENCE_CLASSIFICATION,
    PAPER_REFERENCE_SEGMENTATION,
    ClassificationReportHandler,
    ReportError,
    SegmentationReportHandler,
    classification_metrics,
    collect_reports,
    comparison_markdown,
    paper_reference,
    segmentation_metrics,
    summarize_segmentation,
    write_comparison,
)
from monai_cbis.evaluation import compare as compare_module

METADATA_NAME = "CBIS-DDSM full-mammogram lesion segmentation (U-Net, EfficientNet-B3 encoder)"


def seg_metrics(n=6, shift=2, size=64, lesion=12, seed=0, **extra) -> dict:
    """A real segmentation summary: square lesions, predictions shifted by ``shift`` pixels."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        r, c = rng.integers(0, size - lesion - shift, size=2)
        label, pred = np.zeros((1, size, size)), np.zeros((1, size, size))
        label[0, r : r + lesion, c : c + lesion] = 1
        pred[0, r + shift : r + shift + lesion, c : c + lesion] = 1
        rows.append(segmentation_metrics(label, pred))
    return {**extra, **summarize_segmentation(rows)}


def cls_metrics(n=40, n_malignant=14, noise=0.3, seed=0, **extra) -> dict:
    """Real classification metrics: probability = label * 0.5 + 0.25 + noise."""
    rng = np.random.default_rng(seed)
    y = np.array([1] * n_malignant + [0] * (n - n_malignant))
    p = np.clip(0.25 + 0.5 * y + rng.normal(0, noise, n), 0, 1)
    return {**extra, **classification_metrics(y, p), "paper_reference": PAPER_REFERENCE_CLASSIFICATION}


def put(path, obj) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return str(path)


def make_tree(root) -> dict:
    """A bundle without 'model' in its metrics, reports with 'model', an unknown model; returns the paths to pass."""
    root = str(root)
    bundle = os.path.join(root, "bundles", "unet_effb3")
    put(os.path.join(bundle, "configs", "metadata.json"), {"name": METADATA_NAME})
    put(os.path.join(bundle, "eval", "metrics.json"), seg_metrics(shift=1))
    roi = os.path.join(root, "runs", "roi_eval")
    put(os.path.join(roi, "metrics.json"), seg_metrics(shift=4, seed=1, model="unet_roi"))
    vgg = os.path.join(root, "runs", "vgg16", "metrics.json")
    put(vgg, cls_metrics(model="vgg16_classification"))
    mine = os.path.join(root, "runs", "my_cnn")
    put(os.path.join(mine, "metrics.json"), cls_metrics(noise=0.6, seed=2))
    return {"unet_effb3": bundle, "unet_roi": roi, "vgg16_classification": vgg, "my_cnn": mine}


def table_rows(markdown: str, section: str) -> dict[str, dict[str, str]]:
    """``{model: {column: cell}}`` of the table under ``## section``."""
    lines = markdown.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0].strip().splitlines()
    table = [ln for ln in lines if ln.startswith("|")]
    split = [[c.strip() for c in re.split(r"(?<!\\)\|", ln.strip()[1:-1])] for ln in table]
    header, body = split[0], split[2:]
    return {r[0]: dict(zip(header, r, strict=True)) for r in body}


def test_model_identity_and_kind(tmp_path):
    paths = make_tree(tmp_path)
    entries = collect_reports(list(paths.values()))
    got = {e.model: (e.kind, e.model_from) for e in entries}
    assert got == {
        "unet_effb3": ("segmentation", "bundle"),
        "unet_roi": ("segmentation", "metrics"),
        "vgg16_classification": ("classification", "metrics"),
        "my_cnn": ("classification", "folder"),
    }
    effb3 = entries[0]
    assert effb3.bundle_dir == paths["unet_effb3"] and effb3.bundle_title == METADATA_NAME
    assert effb3.eval_dir == os.path.join(paths["unet_effb3"], "eval")
    assert effb3.metrics_path == os.path.join(paths["unet_effb3"], "eval", "metrics.json")
    assert entries[1].bundle_dir is None and entries[1].bundle_title is None


def test_bundle_folder_reads_nested_eval_folders_and_metadata_without_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bundle = tmp_path / "unet_roi"
    put(bundle / "configs" / "metadata.json", {"version": "0.1.0"})
    put(bundle / "eval" / "val" / "metrics.json", seg_metrics(n=3))
    put(bundle / "eval" / "test" / "metrics.json", seg_metrics(n=4))
    entries = collect_reports([bundle, bundle / "eval" / "test" / "metrics.json"])  # the second is a duplicate
    assert [(e.model, e.model_from, e.metrics["n_images"]) for e in entries] == [
        ("unet_roi", "bundle", 4),
        ("unet_roi", "bundle", 3),
    ]
    assert entries[0].bundle_title is None
    rows = table_rows(comparison_markdown(entries), "Segmentation")
    assert set(rows) == {"unet_roi (test)", "unet_roi (val)"}  # one model twice: told apart by folder
    assert rows["unet_roi (test)"]["source"] == os.path.join("unet_roi", "eval", "test")  # relative to the cwd
    monkeypatch.chdir(bundle / "eval")
    rows = table_rows(comparison_markdown(entries), "Segmentation")
    assert rows["unet_roi (test)"]["source"] == "test"
    monkeypatch.chdir(tmp_path.parent)
    assert comparison_markdown(entries).count(str(tmp_path)) == 0  # still inside the cwd: relative
    monkeypatch.chdir(tmp_path / "unet_roi" / "configs")  # outside: absolute
    assert table_rows(comparison_markdown(entries), "Segmentation")["unet_roi (val)"]["source"] == str(
        bundle / "eval" / "val"
    )


def test_tables_paper_column_and_baseline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = make_tree(tmp_path)
    entries = collect_reports(list(paths.values()))
    md = comparison_markdown(entries)
    assert "not results of this run" in md and "4 decimals" in md

    seg = table_rows(md, "Segmentation")
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

    cls = table_rows(md, "Classification")
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


def test_unknown_model_gets_empty_paper_cells(tmp_path):
    paths = make_tree(tmp_path)
    md = comparison_markdown(collect_reports([paths["my_cnn"]]))
    row = table_rows(md, "Classification")["my_cnn"]
    assert row["paper accuracy, pretrained"] == "" and row["paper accuracy, from scratch"] == ""
    assert "## Segmentation" not in md
    assert paper_reference("my_cnn", "classification") is None
    assert paper_reference("unet_effb3", "classification") is None  # the kind decides the table
    with pytest.raises(ValueError, match=r"Unsupported kind: 'detection', available options are"):
        paper_reference("unet_effb3", "detection")


def test_paper_references_come_from_the_constants():
    seg = PAPER_REFERENCE_SEGMENTATION
    assert paper_reference("unet_effb3", "segmentation")["dice"] == seg["paper_A_mean_dice_incl_background"]
    assert paper_reference("deeplabv3plus_r50", "segmentation")["iou"] == seg["paper_B_deeplabv3plus_lesion_iou"]
    for arch, acc in PAPER_REFERENCE_CLASSIFICATION["paper_B_test_accuracy"].items():
        assert paper_reference(f"{arch}_classification", "classification")["accuracy_pretrained"] == acc
    assert paper_reference("mobilenetv2_classification", "classification")["accuracy_from_scratch"] == 0.5105
    assert paper_reference("VGG16", "classification")["accuracy_pretrained"] == 0.7739


def test_write_comparison_files_json_and_png(tmp_path):
    paths = make_tree(tmp_path / "tree")
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
    assert effb3["paper"]["compare_with"] == ["mean_dice_incl_background", "mean_iou_incl_background"]
    assert effb3["model_from"] == "bundle" and effb3["bundle_title"] == METADATA_NAME
    assert vgg["majority_baseline_accuracy"] == 0.65 and vgg["majority_class"] == "benign"
    assert vgg["paper"]["accuracy_pretrained"] == 0.7739 and mine["paper"] is None
    assert "not results of this run" in data["note"]

    with Image.open(files["png"]) as im:  # a real PNG: two stacked panels, 4.3 in each at 100 dpi
        im.verify()
    with Image.open(files["png"]) as im:
        assert im.format == "PNG" and im.size[1] == 860 and im.size[0] >= 650


def test_one_kind_gives_one_panel_and_data_column(tmp_path):
    put(tmp_path / "a" / "metrics.json", seg_metrics(model="unet_roi", data="synthetic demo, test section"))
    put(tmp_path / "b" / "metrics.json", seg_metrics(model="deeplabv3plus_r50"))
    entries = collect_reports([tmp_path / "a", tmp_path / "b"])
    assert entries[0].data == "synthetic demo, test section" and entries[1].data is None
    rows = table_rows(comparison_markdown(entries), "Segmentation")
    assert rows["unet_roi"]["data"] == "synthetic demo, test section" and rows["deeplabv3plus_r50"]["data"] == ""
    files = write_comparison(entries, tmp_path / "out")
    with Image.open(files["png"]) as im:
        assert im.size == (650, 430)


def test_undefined_scores_print_na(tmp_path):
    m = cls_metrics(n=5, n_malignant=0, model="resnet50_classification")  # one class: AUC and sensitivity None
    assert m["roc_auc"] is None
    row = table_rows(comparison_markdown(collect_reports([put(tmp_path / "m.json", m)])), "Classification")
    assert row["resnet50_classification"]["AUC"] == "n/a" and row["resnet50_classification"]["sensitivity"] == "n/a"
    write_comparison(collect_reports([tmp_path / "m.json"]), tmp_path / "out")  # the chart copes too


def test_errors_name_the_file_and_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such file or folder: .*nowhere"):
        collect_reports([tmp_path / "nowhere"])
    (tmp_path / "empty_bundle" / "eval").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"empty_bundle: looked for .*metrics\.json .*eval/\*\*/metrics\.json"):
        collect_reports([tmp_path / "empty_bundle"])

    wrong = put(tmp_path / "wrong" / "metrics.json", {"loss": 0.3, "epoch": 2})
    with pytest.raises(ReportError, match=f"{wrong} is not an evaluation report: expected the key 'lesion_dice'.*"
                                          r"'accuracy'.*found keys \['epoch', 'loss'\]"):  # fmt: skip
        collect_reports([tmp_path / "wrong"])
    bad = put(tmp_path / "bad" / "metrics.json", '{"lesion_dice": 0.5,')
    with pytest.raises(ReportError, match=f"{bad} is not valid JSON"):
        collect_reports([bad])
    listed = put(tmp_path / "list.json", "[1, 2]")
    with pytest.raises(ReportError, match=f"{listed} holds a JSON list, expected an object"):
        collect_reports([listed])
    text = put(tmp_path / "text" / "metrics.json", {"accuracy": "0.7"})
    with pytest.raises(ReportError, match=f"{text}: 'accuracy' is '0.7', expected a number or null"):
        collect_reports([text])
    nameless = put(tmp_path / "nameless" / "metrics.json", {"accuracy": 0.7, "model": ""})
    with pytest.raises(ReportError, match=f"{nameless}: 'model' is '', expected a non-empty string"):
        collect_reports([nameless])
    with pytest.raises(ValueError, match="No reports to compare"):
        write_comparison([], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def run_engine(handler, batches):
    engine = Engine(lambda e, batch: batch)  # output = the batch: a list of per-item dicts, as MONAI decollates
    handler.attach(engine)
    engine.run(batches, max_epochs=1)


@pytest.mark.parametrize("model_name", [None, "unet_roi"])
def test_segmentation_handler_model_name(tmp_path, model_name):
    label = np.zeros((1, 8, 8), np.float32)
    label[0, 2:6, 2:6] = 1
    out = tmp_path / "eval"
    run_engine(SegmentationReportHandler(str(out), num_overlays=0, model_name=model_name),
               [[{"label": label, "pred": label}], [{"label": label, "pred": np.zeros_like(label)}]])  # fmt: skip
    m = json.loads((out / "metrics.json").read_text())
    assert m["n_images"] == 2 and m["lesion_dice"] == pytest.approx(0.5)
    if model_name is None:
        assert "model" not in m
        assert collect_reports([out])[0].model == "eval"  # no bundle above: the folder name
    else:
        assert m["model"] == "unet_roi" and next(iter(m)) == "model"
        entry = collect_reports([out])[0]
        assert (entry.model, entry.model_from, entry.kind) == ("unet_roi", "metrics", "segmentation")


def test_classification_handler_model_name(tmp_path):
    out = tmp_path / "cls"
    batches = [[{"label": y, "pred": np.array([1 - p, p])}] for y, p in ((0, 0.2), (1, 0.7), (0, 0.6), (0, 0.1))]
    run_engine(ClassificationReportHandler(str(out), model_name="densenet121_classification"), batches)
    m = json.loads((out / "metrics.json").read_text())
    assert m["model"] == "densenet121_classification" and m["accuracy"] == 0.75
    row = table_rows(comparison_markdown(collect_reports([out])), "Classification")["densenet121_classification"]
    assert row["accuracy"] == "0.7500" and row["majority baseline"] == "0.7500 (all benign)"
    assert row["paper accuracy, pretrained"] == "0.7692 (paper B)" and row["paper accuracy, from scratch"] == "0.6131"


def test_docstring_examples():
    result = doctest.testmod(compare_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
