"""comparison_rows: labels, source folders, scores, and each row's reference (metrics.json first, then the spec)."""

from __future__ import annotations

import os

from monai_cbis.evaluation import collect_reports, comparison_markdown, comparison_rows
from monai_cbis.zoo.specs import SPECS

OWN = {
    "paper": "B",
    "metric": "lesion Dice / IoU",
    "setting": "a re-run of paper B's U-Net",
    "figures": {"lesion_dice": 0.5, "lesion_iou": 0.25},
    "figures_from_scratch": {},
    "note": "Published numbers, not results of this run.",
}


def test_bundle_folder_reads_nested_eval_folders_and_metadata_without_name(tmp_path, monkeypatch, rep):
    monkeypatch.chdir(tmp_path)
    bundle = tmp_path / "unet_roi"
    rep.put(bundle / "configs" / "metadata.json", {"version": "0.1.0"})
    rep.put(bundle / "eval" / "val" / "metrics.json", rep.seg_metrics(n=3))
    rep.put(bundle / "eval" / "test" / "metrics.json", rep.seg_metrics(n=4))
    entries = collect_reports([bundle, bundle / "eval" / "test" / "metrics.json"])  # the second is a duplicate
    assert [(e.model, e.model_from, e.metrics["n_images"]) for e in entries] == [
        ("unet_roi", "bundle", 4),
        ("unet_roi", "bundle", 3),
    ]
    assert entries[0].bundle_title is None
    rows = rep.table_rows(comparison_markdown(entries), "Segmentation")
    assert set(rows) == {"unet_roi (test)", "unet_roi (val)"}  # one model twice: told apart by folder
    assert rows["unet_roi (test)"]["source"] == os.path.join("unet_roi", "eval", "test")  # relative to the cwd
    monkeypatch.chdir(bundle / "eval")
    rows = rep.table_rows(comparison_markdown(entries), "Segmentation")
    assert rows["unet_roi (test)"]["source"] == "test"
    monkeypatch.chdir(tmp_path.parent)
    assert comparison_markdown(entries).count(str(tmp_path)) == 0  # still inside the cwd: relative
    monkeypatch.chdir(tmp_path / "unet_roi" / "configs")  # outside: absolute
    assert rep.table_rows(comparison_markdown(entries), "Segmentation")["unet_roi (val)"]["source"] == str(
        bundle / "eval" / "val"
    )


def test_rows_hold_identity_scores_and_reference(tmp_path, monkeypatch, rep):
    monkeypatch.chdir(tmp_path)
    entries = collect_reports(list(rep.make_tree(tmp_path).values()))
    rows = comparison_rows(entries)
    assert [r["label"] for r in rows["segmentation"]] == ["unet_effb3", "unet_roi"]
    assert [r["label"] for r in rows["classification"]] == ["vgg16_classification", "my_cnn"]
    effb3, vgg, mine = rows["segmentation"][0], rows["classification"][0], rows["classification"][1]
    assert effb3["lesion_dice"] == entries[0].metrics["lesion_dice"] and effb3["epoch"] is None
    assert effb3["source"] == os.path.join("bundles", "unet_effb3", "eval") and effb3["model_from"] == "bundle"
    assert vgg["majority_class"] == "benign" and "majority_class" not in effb3
    assert effb3["paper"] == SPECS["unet_effb3"].published  # no reference in its metrics.json: the spec's
    assert vgg["paper"] == SPECS["vgg16_classification"].published  # an older-style reference: the spec's
    assert mine["paper"] is None


def test_reference_in_metrics_json_wins_over_the_spec(tmp_path, rep):
    rep.put(tmp_path / "own" / "metrics.json", rep.seg_metrics(model="unet_roi", paper_reference=OWN))
    rep.put(tmp_path / "new" / "metrics.json", rep.seg_metrics(model="my_segmenter", paper_reference=OWN))
    rep.put(tmp_path / "spec" / "metrics.json", rep.seg_metrics(model="unet_roi"))
    rows = comparison_rows(collect_reports([tmp_path / "own", tmp_path / "new", tmp_path / "spec"]))["segmentation"]
    assert [r["paper"] for r in rows] == [OWN, OWN, SPECS["unet_roi"].published]
    md = rep.table_rows(comparison_markdown(collect_reports([tmp_path / "own"])), "Segmentation")
    assert md["unet_roi"]["paper Dice / IoU"] == "0.5000 / 0.2500 (paper B)"
