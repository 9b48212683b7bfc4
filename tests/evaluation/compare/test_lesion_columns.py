"""The lesion-level table and chart panel: segmenters with a lesion level and detectors side by side, with the
detectors' published anchors labelled as not this run."""

from __future__ import annotations

from monai_cbis.evaluation import collect_reports, image_record, summarize_lesion_level
from monai_cbis.evaluation.compare import comparison_rows, render_figure, render_json, render_markdown
from monai_cbis.evaluation.lesion_level import headline

ANCHOR = {"paper": "YOLO-family, CBIS-DDSM masses", "metric": "mAP@0.5", "setting": "other models and splits",
          "figures": {"map_at_iou_0.5": 0.58}}  # fmt: skip


def detector_metrics() -> dict:
    """What DetectionReportHandler writes, from the real summary: one lesion found at 0.9, one missed, 1 false mark."""
    fields = [{"abnormality_type": "mass"}]
    recs = [
        image_record("a.png", "P_1", [0.9], [True], [0.9], [[0, 0, 4, 4]], fields, det_boxes=[[0, 0, 4, 4]]),
        image_record("b.png", "P_2", [0.8], [False], [-float("inf")], [[5, 5, 9, 9]], fields,
                     det_boxes=[[20, 20, 24, 24]]),
    ]  # fmt: skip
    s, _ = summarize_lesion_level(recs, n_resamples=20)
    return {"model": "retinanet_detection", "n_images": 2, **headline(s), "lesion_level": s, "paper_reference": ANCHOR}


def test_lesion_table_and_panel(tmp_path, rep):
    det = rep.put(str(tmp_path / "det" / "metrics.json"), detector_metrics())
    seg = rep.seg_metrics(model="unet_effb3", froc_mean_sensitivity=0.25, sensitivity_at_1fp=0.5)
    rep.put(str(tmp_path / "seg" / "metrics.json"), {**seg, "map_at_iou_0.1": 0.125})
    rep.put(str(tmp_path / "roi" / "metrics.json"), rep.seg_metrics(model="unet_roi"))  # no lesion level
    rows = comparison_rows(collect_reports([tmp_path / "seg", tmp_path / "roi", det]))
    assert [r["model"] for r in rows["detection"]] == ["retinanet_detection"]
    md = render_markdown(rows)
    table = rep.table_rows(md, "Lesion level (segmenters and detectors on one scale)")
    assert list(table) == ["unet_effb3", "retinanet_detection"]  # unet_roi has no lesion level
    effb3, retina = table["unet_effb3"], table["retinanet_detection"]
    assert (
        effb3["FROC mean sensitivity"] == "0.2500" and effb3["mAP@0.1"] == "0.1250" and effb3["kind"] == "segmentation"
    )
    assert effb3["sensitivity at 0.5 FP/image"] == "n/a"
    assert effb3["published reference (not this run)"] == ""  # a segmenter's reference is a Dice: not this table's
    assert retina["kind"] == "detection" and retina["sensitivity at 1 FP/image"] == "0.5000"
    assert retina["FROC mean sensitivity"] == "0.5000" and retina["n images"] == "2"
    assert retina["published reference (not this run)"] == "mAP@0.5 0.5800 (YOLO-family, CBIS-DDSM masses)"
    assert "## Segmentation" in md and "segmenter's marks are the connected components" in md
    assert render_json(rows, {})["detection"][0]["map_at_iou_0.5"] == rows["detection"][0]["map_at_iou_0.5"]
    fig = render_figure(rows)
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["Segmentation", "Lesion level"]
    assert "YOLO-family, CBIS-DDSM masses 0.5800" in [t.get_text() for t in fig.axes[1].texts]


def test_detector_alone(tmp_path, rep):
    rows = comparison_rows(collect_reports([rep.put(str(tmp_path / "m.json"), detector_metrics())]))
    md = render_markdown(rows)
    assert "## Segmentation" not in md and "## Lesion level" in md and "No reports." not in md
    assert len(render_figure(rows).axes) == 1
