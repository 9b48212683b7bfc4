"""The geometry column of the report: where each segmentation / lesion-level row was scored, '-' for reports that
do not say, and a warning (comparison.md) and field (comparison.json) when a table mixes geometries."""

from __future__ import annotations

import json

from monai_cbis.evaluation import collect_reports
from monai_cbis.evaluation.compare import comparison_rows, mixed_geometries, render_figure, render_markdown
from monai_cbis.evaluation.compare.write import write_comparison

SEG = "Segmentation"
LESION = "Lesion level (segmenters and detectors on one scale)"


def _reports(tmp_path, rep, geometries: dict) -> list:
    """One segmentation report with a lesion level per model; ``geometry`` left out where it is None (an older
    metrics.json)."""
    for i, (model, geometry) in enumerate(geometries.items()):
        extra = {"froc_mean_sensitivity": 0.5, "sensitivity_at_1fp": 0.5}
        if geometry is not None:
            extra["geometry"] = geometry
        rep.put(tmp_path / model / "metrics.json", rep.seg_metrics(seed=i, model=model, **extra))
    return collect_reports([tmp_path / model for model in geometries])


def test_one_geometry_is_a_column_and_no_warning(tmp_path, rep):
    rows = comparison_rows(_reports(tmp_path, rep, {"unet_effb3": "original", "unet_highres": "original"}))
    assert [r["geometry"] for r in rows["segmentation"]] == ["original", "original"]
    md = render_markdown(rows)
    assert {r["geometry"] for r in rep.table_rows(md, SEG).values()} == {"original"}
    assert {r["geometry"] for r in rep.table_rows(md, LESION).values()} == {"original"}
    assert "mixes geometries" not in md
    assert mixed_geometries(rows) == {"segmentation": None, "lesion_level": None}


def test_mixed_geometries_are_flagged_in_markdown_json_and_chart(tmp_path, rep):
    entries = _reports(tmp_path, rep, {"unet_effb3": "working", "unet_highres": "original", "old_run": None})
    paths = write_comparison(entries, tmp_path / "out")
    md = open(paths["markdown"]).read()
    seg, lesion = rep.table_rows(md, SEG), rep.table_rows(md, LESION)
    assert [seg[m]["geometry"] for m in ("unet_effb3", "unet_highres", "old_run")] == ["working", "original", "-"]
    assert [lesion[m]["geometry"] for m in ("unet_effb3", "unet_highres", "old_run")] == ["working", "original", "-"]
    expected = {"working": ["unet_effb3"], "original": ["unet_highres"], "unknown": ["old_run"]}
    doc = json.loads(open(paths["json"]).read())
    assert doc["mixed_geometry"] == {"segmentation": expected, "lesion_level": expected}
    assert doc["segmentation"][2]["geometry"] is None and "geometry" in doc["note"]
    seg_part = md.split("## Segmentation\n", 1)[1].split("## Lesion level", 1)[0]
    for part in (seg_part, md.split("## Lesion level", 1)[1]):
        warning = next(ln for ln in part.splitlines() if "mixes geometries" in ln)
        assert "working: unet_effb3; original: unet_highres; unknown: old_run" in warning
    assert render_markdown(doc) == md  # the rows read back from comparison.json give the same Markdown
    ticks = [t.get_text() for t in render_figure(comparison_rows(entries)).axes[0].get_xticklabels()]
    assert ticks == [
        "unet_effb3\n(working geometry)",
        "unet_highres\n(original geometry)",
        "old_run\n(unknown geometry)",
    ]


def test_a_report_without_geometry_does_not_mix_on_its_own(tmp_path, rep):
    """A detector's report, which records no geometry, does not make a mix on its own; a working-grid row beside
    original-geometry ones does, in each table it is in, and the detector is listed with the rest."""
    rep.put(tmp_path / "roi" / "metrics.json", rep.seg_metrics(model="unet_roi", geometry="original"))
    seg = rep.seg_metrics(model="unet_highres", geometry="original", froc_mean_sensitivity=0.5)
    rep.put(tmp_path / "seg" / "metrics.json", seg)
    rep.put(tmp_path / "det" / "metrics.json", {"model": "retinanet_detection", "n_images": 2,
                                                 "froc_mean_sensitivity": 0.4})  # fmt: skip
    rows = comparison_rows(collect_reports([tmp_path / "roi", tmp_path / "seg", tmp_path / "det"]))
    assert mixed_geometries(rows) == {"segmentation": None, "lesion_level": None}  # one recorded geometry
    assert rep.table_rows(render_markdown(rows), LESION)["retinanet_detection"]["geometry"] == "-"
    ticks = [t.get_text() for ax in render_figure(rows).axes for t in ax.get_xticklabels()]
    assert "retinanet_detection" in ticks and not any("geometry)" in t for t in ticks)  # the chart follows the table
    films = rep.seg_metrics(model="unet_roi (whole films)", geometry="working", froc_mean_sensitivity=0.3)
    rep.put(tmp_path / "films" / "metrics.json", films)
    rows = comparison_rows(collect_reports([tmp_path / d for d in ("roi", "seg", "det", "films")]))
    assert mixed_geometries(rows) == {
        "segmentation": {"original": ["unet_roi", "unet_highres"], "working": ["unet_roi (whole films)"]},
        "lesion_level": {
            "original": ["unet_highres"],
            "unknown": ["retinanet_detection"],
            "working": ["unet_roi (whole films)"],
        },
    }
    md = render_markdown(rows)
    assert md.count("mixes geometries") == 2 and "the lesion-level table mixes geometries" in md


def test_older_reports_without_geometry_are_unknown_not_an_error(tmp_path, rep):
    rows = comparison_rows(_reports(tmp_path, rep, {"unet_effb3": None, "unet_roi": None}))
    md = render_markdown(rows)
    assert [r["geometry"] for r in rep.table_rows(md, SEG).values()] == ["-", "-"]
    assert "mixes geometries" not in md  # nothing recorded anywhere: nothing to tell apart
