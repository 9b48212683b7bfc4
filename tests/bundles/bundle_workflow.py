"""Helpers shared by the bundle tests: build a ``ConfigWorkflow``, run it as the model zoo's CI does, find our
error inside the exceptions MONAI wraps it in, and read an evaluation report after checking it against itself.
Importable because pyproject's pytest ``pythonpath`` lists this folder (test modules cannot import each other under
``--import-mode=importlib``)."""

from __future__ import annotations

import csv
import json
import os
import re

import pytest
from monai.bundle import ConfigWorkflow


def config_workflow(config_files, meta_file: str, workflow_type: str, **overrides) -> ConfigWorkflow:
    """A workflow over ``config_files`` without the bundle's logging config (pytest captures the logs)."""
    return ConfigWorkflow(
        config_file=config_files, meta_file=meta_file, logging_file=False, workflow_type=workflow_type, **overrides
    )


def run(wf: ConfigWorkflow) -> None:
    """initialize, check_properties (must report nothing missing), run, finalize."""
    wf.initialize()
    assert wf.check_properties() in (None, []), wf.check_properties()
    wf.run()
    wf.finalize()


def raised(exc_info, kind: type, pattern: str) -> bool:
    """MONAI wraps errors raised while instantiating a component: look for ours along the cause chain."""
    e = exc_info.value
    while e is not None:
        if isinstance(e, kind) and re.search(pattern, str(e)):
            return True
        e = e.__cause__
    return False


def _rows(path: str) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


_CASE_RE = re.compile(r"^(Mass|Calc)-(Training|Test)_(P_\d+)_(LEFT|RIGHT)_(CC|MLO)(_\d+)?$")


def checked_case_columns(rows: list[dict]) -> None:
    """Every per-case row is named by its case (the series folder, ``_<abnormality_id>`` for one lesion), uniquely,
    and its woman / side / view columns agree with the name (issue 10: per-case outputs a person can read)."""
    assert len({r["case"] for r in rows}) == len(rows)
    for r in rows:
        m = _CASE_RE.match(r["case"])
        assert m, r["case"]
        assert (m[3], m[4], m[5]) == (r["patient_id"], r["laterality"], r["view"]), r
        assert r["pathology"] and r["breast_density"] != "" and r["subtlety"] != ""
        if m[6]:  # one lesion
            assert m[6] == f"_{r['abnormality_id']}"


def checked_segmentation_report(eval_dir: str) -> tuple[dict, list[dict]]:
    """``metrics.json`` and ``per_image.csv`` of a segmentation evaluation, after checking that every per-image score
    follows from the row's pixel counts and every headline figure from the rows (means, pooled counts, counts of
    empty masks). Returns ``(metrics, rows)`` for the caller's checks against the data."""
    with open(os.path.join(eval_dir, "metrics.json")) as f:
        metrics = json.load(f)
    rows = _rows(os.path.join(eval_dir, "per_image.csv"))
    assert metrics["n_images"] == len(rows) > 0
    checked_case_columns(rows)
    for r in rows:
        tp, n_lab, n_prd, n = (int(r[k]) for k in ("overlap_pixels", "label_lesion_pixels", "pred_lesion_pixels",
                                                   "total_pixels"))  # fmt: skip
        assert 0 <= tp <= min(n_lab, n_prd) and max(n_lab, n_prd) <= n
        dice = 2 * tp / (n_lab + n_prd) if n_lab + n_prd else 1.0  # the empty-mask convention: both empty is 1
        iou = tp / (n_lab + n_prd - tp) if n_lab + n_prd else 1.0
        assert float(r["lesion_dice"]) == pytest.approx(dice) and float(r["lesion_iou"]) == pytest.approx(iou)
        assert float(r["pixel_accuracy"]) == pytest.approx((n - n_lab - n_prd + 2 * tp) / n)
    for key in ("lesion_dice", "lesion_iou", "mean_dice_incl_background", "mean_iou_incl_background", "pixel_accuracy"):
        assert metrics[key] == pytest.approx(sum(float(r[key]) for r in rows) / len(rows)), key
    tp, n_lab, n_prd = (sum(int(r[k]) for r in rows) for k in ("overlap_pixels", "label_lesion_pixels",
                                                             "pred_lesion_pixels"))  # fmt: skip
    assert metrics["pooled"]["lesion_dice"] == pytest.approx(2 * tp / (n_lab + n_prd) if n_lab + n_prd else 1.0)
    assert metrics["n_empty_label"] == sum(int(r["label_lesion_pixels"]) == 0 for r in rows)
    assert metrics["n_empty_pred"] == sum(int(r["pred_lesion_pixels"]) == 0 for r in rows)
    return metrics, rows


def checked_lesion_report(eval_dir: str, films: dict[str, list[dict]]) -> tuple[dict, list[dict]]:
    """The lesion level of a segmentation or detection report (``metrics.json`` ``lesion_level``, ``per_lesion.csv``,
    ``froc.png``), checked against itself and against ``films``: the truth, ``{full image path: [its CSV rows as
    dicts with patient_id, abnormality_type, pathology and, if known, breast_density]}``. Every evaluated film's
    woman (and density) are its CSV rows' (exact), and a film with one row gives each lesion that row's type and
    pathology.
    Returns ``(lesion_level, per_lesion rows)``."""
    with open(os.path.join(eval_dir, "metrics.json")) as f:
        metrics = json.load(f)
    ll = metrics["lesion_level"]
    rows = _rows(os.path.join(eval_dir, "per_lesion.csv"))
    assert ll["n_lesions"] == len(rows) and ll["n_images"] == metrics["n_images"]
    assert "IoU" in ll["hit_criterion"]["text"] and ll["hit_criterion"]["threshold"] == 0.1
    assert os.path.isfile(os.path.join(eval_dir, "froc.png"))
    # the headline keys are the lesion level's, and the FROC points never fall as more false marks are allowed
    sens = ll["froc"]["sensitivity"]
    assert metrics["froc_mean_sensitivity"] == pytest.approx(sum(sens) / len(sens))
    assert metrics["sensitivity_at_1fp"] == sens[ll["froc"]["fp_rates"].index(1.0)]
    assert all(b >= a for a, b in zip(sens, sens[1:], strict=False))
    # every lesion found with all marks kept: the curve's end, and the breakdown's 'every mark' overall share
    found_any = sum(r["found_score"] != "" for r in rows)
    assert ll["froc"]["max_sensitivity"] == pytest.approx(found_any / len(rows))
    at_op = sum(r["found"] == "True" for r in rows)
    assert ll["operating_point"]["sensitivity"]["estimate"] == pytest.approx(at_op / len(rows))
    for name, groups in ll["breakdown"].items():
        if name != "abnormality_type_x_size":
            assert sum(g["n_lesions"] for g in groups) == len(rows), name
        for g in groups:  # a percentile interval need not hold its estimate: only its bounds are checked
            s = g["sensitivity"]
            assert 0 <= s["low"] <= s["high"] <= 1 and 0 <= s["estimate"] <= 1, (name, g)
    norm = {os.path.realpath(k): v for k, v in films.items()}
    for r in rows:
        truth = norm[os.path.realpath(r["image"])]
        assert r["patient_id"] == truth[0]["patient_id"]
        if "breast_density" in truth[0]:
            assert r["breast_density"] == str(truth[0]["breast_density"])
        if len(truth) == 1:
            assert (r["abnormality_type"], r["pathology"]) == (truth[0]["abnormality_type"], truth[0]["pathology"])
    return ll, rows


def checked_classification_report(eval_dir: str) -> tuple[dict, list[dict]]:
    """``metrics.json`` and ``per_case.csv`` of a classification evaluation, after recomputing accuracy, the
    majority baseline, sensitivity, specificity and the confusion matrix from the rows. Returns ``(metrics, rows)``."""
    with open(os.path.join(eval_dir, "metrics.json")) as f:
        metrics = json.load(f)
    rows = _rows(os.path.join(eval_dir, "per_case.csv"))
    n = len(rows)
    assert metrics["n_cases"] == n > 0
    checked_case_columns(rows)
    true = [int(r["true_label"]) for r in rows]
    pred = [int(r["predicted_label"]) for r in rows]
    assert pred == [int(float(r["prob_malignant"]) >= metrics["threshold"]) for r in rows]
    cm = [[sum(t == i and p == j for t, p in zip(true, pred, strict=True)) for j in (0, 1)] for i in (0, 1)]
    assert metrics["confusion_matrix"] == cm
    assert metrics["accuracy"] == pytest.approx((cm[0][0] + cm[1][1]) / n)
    assert metrics["n_malignant"] == sum(true) and metrics["n_benign"] == n - sum(true)
    assert metrics["majority_baseline_accuracy"] == pytest.approx(max(sum(true), n - sum(true)) / n)
    if sum(true):
        assert metrics["sensitivity"] == pytest.approx(cm[1][1] / sum(true))
    if n - sum(true):
        assert metrics["specificity"] == pytest.approx(cm[0][0] / (n - sum(true)))
    return metrics, rows


def checked_original_geometry_report(eval_dir: str, films: dict[str, list[dict]]) -> dict:
    """A segmentation evaluation run with ``eval_geometry original`` (issue 14's comparison): the report says so,
    every film was scored on its own full size (rows x columns of its file), and there is one ground-truth lesion per
    CSV row of ``films`` (as :func:`checked_lesion_report`). Returns ``metrics.json``."""
    from monai_cbis.data import read_header

    metrics, rows = checked_segmentation_report(eval_dir)
    assert metrics["geometry"] == "original"
    for r in rows:
        hdr = read_header(r["image"])
        assert int(r["total_pixels"]) == hdr.rows * hdr.columns, r["image"]
        assert int(r["label_lesion_pixels"]) > 0
    lesion_level, lesions = checked_lesion_report(eval_dir, films)
    assert len(lesions) == sum(len(v) for v in films.values())
    assert lesion_level["lesions_from"].startswith("one per mask of the item")
    return metrics
