"""The lesion-level summary: FROC and its intervals from records, the breakdown by lesion, the findings in words,
and each lesion's CSV fields looked up from the section's rows."""

from __future__ import annotations

import numpy as np
import pytest

from monai_cbis.evaluation.lesion_attributes import MIXED, LesionAttributes
from monai_cbis.evaluation.lesion_level import BREAKDOWNS, HEADLINE_KEYS, headline, image_record, summarize_lesion_level


def record(i, patient, lesions, fp_scores=(), spacing=None):
    """One image: ``lesions`` = [(found score or None, area px, type, pathology)], plus false marks."""
    found = [-np.inf if f is None else f for f, *_ in lesions]
    fields = [{"abnormality_type": t, "pathology": p, "breast_density": 2, "subtlety": 3} for _, _, t, p in lesions]
    areas = [a for _, a, *_ in lesions]
    hits = [f for f in found if np.isfinite(f)]
    scores = hits + list(fp_scores)
    det_hit = [True] * len(hits) + [False] * len(fp_scores)
    boxes = [[0, 0, 4, 4]] * len(lesions)
    mm2 = None if spacing is None else [a * spacing for a in areas]
    return image_record(f"im{i:03d}.png", patient, scores, det_hit, found, boxes, fields, areas=areas, area_mm2=mm2,
                        dice=[0.8 if np.isfinite(f) else 0.0 for f in found])  # fmt: skip


def calcification_study(n_women=40, seed=0):
    """Small calcifications are mostly missed, everything else mostly found; two images per woman."""
    rng = np.random.default_rng(seed)
    recs = []
    for w in range(n_women):
        for v in range(2):
            t = "calcification" if w % 2 else "mass"
            area = float(rng.uniform(10, 40) if w % 4 in (1, 3) and v == 0 else rng.uniform(200, 400))
            small_calc = t == "calcification" and area < 100
            found = None if (small_calc and rng.uniform() < 0.9) or rng.uniform() < 0.05 else float(rng.uniform(0.6, 1))
            recs.append(record(2 * w + v, f"P_{w:05d}", [(found, area, t, "MALIGNANT" if w % 3 else "BENIGN")],
                               fp_scores=[float(rng.uniform(0, 0.5))]))  # fmt: skip
    return recs


def test_summary_matches_hand_counts():
    recs = [
        record(0, "P_1", [(0.9, 30, "mass", "BENIGN")], fp_scores=[0.95]),
        record(1, "P_1", [(None, 10, "mass", "BENIGN")]),
        record(2, "P_2", [], fp_scores=[0.2]),  # no lesion: its false mark counts
    ]
    s, rows = summarize_lesion_level(recs, n_resamples=50)
    assert (s["n_images"], s["n_lesions"], s["n_women"], s["n_images_without_lesions"]) == (3, 2, 2, 1)
    # thresholds 0.95 (fp 1/3), 0.9 (found 1), 0.2 (fp 2/3): half the lesions at every rate >= 1/3
    assert s["sensitivity_at_0.125fp"] == 0.0 and s["sensitivity_at_0.5fp"] == 0.5 == s["sensitivity_at_4fp"]
    assert s["froc_mean_sensitivity"] == pytest.approx((0 + 0 + 0.5 * 4) / 6)
    assert headline(s) == {k: s[k] for k in HEADLINE_KEYS}
    assert s["operating_point"]["score_threshold"] == 0.2 and s["operating_point"]["fp_per_image"] == pytest.approx(
        2 / 3
    )
    assert [r["found"] for r in rows] == [True, False] and rows[0]["dice"] == 0.8
    assert s["size"]["unit"] == "px" and s["map_at_iou_0.1"] is None  # no predicted boxes given: no mAP
    assert s["froc"]["curve"]["sensitivity"][0] == 0.0 and s["froc"]["curve"]["sensitivity"][-1] == 0.5
    for ci in s["froc"]["sensitivity_ci95"]:
        assert ci["low"] <= ci["estimate"] <= ci["high"]


def test_breakdown_says_it_misses_small_calcifications():
    s, rows = summarize_lesion_level(calcification_study(), n_resamples=300, seed=1)
    assert list(s["breakdown"]) == list(BREAKDOWNS)
    cross = {g["group"]: g for g in s["breakdown"]["abnormality_type_x_size"]}
    small_calc = next(g for k, g in cross.items() if k.startswith("calcification, size Q1"))
    assert small_calc["sensitivity"]["high"] < s["operating_point"]["sensitivity"]["estimate"]
    assert any(f.startswith("misses more: calcification, size Q1") for f in s["findings"]), s["findings"]
    assert all(not f.startswith("misses more: mass") for f in s["findings"])
    # the same draws for every group, reproducible with the seed
    again, _ = summarize_lesion_level(calcification_study(), n_resamples=300, seed=1)
    assert again["breakdown"] == s["breakdown"]
    # mm^2 when every image knows its spacing
    mm, _ = summarize_lesion_level([record(0, "P_1", [(0.9, 100, "mass", "BENIGN")], spacing=0.25)], n_resamples=20)
    assert mm["size"]["unit"] == "mm^2" and mm["size"]["quartile_edges"] == [25.0, 25.0, 25.0]


def test_no_images():
    s, rows = summarize_lesion_level([], n_resamples=10)
    assert rows == [] and s["froc_mean_sensitivity"] is None and s["n_images"] == 0


def test_attributes_from_rows():
    rows = [
        {"image": "/d/a.dcm", "mask": "/d/a_1.dcm", "patient_id": "P_1", "abnormality_type": "mass",
         "abnormality_id": 2, "pathology": "MALIGNANT", "breast_density": 3, "subtlety": 5},
        {"image": "/d/a.dcm", "mask": "/d/a_2.dcm", "patient_id": "P_1", "abnormality_type": "mass",
         "abnormality_id": 1, "pathology": "BENIGN", "breast_density": 3, "subtlety": 5},
    ]  # fmt: skip
    by_image = LesionAttributes(rows)
    woman, fields = by_image.for_item("/d/x/../a.dcm", None, 3)  # paths are compared normalised
    assert woman == "P_1" and len(fields) == 3
    assert fields[0]["pathology"] == MIXED and fields[0]["subtlety"] == 5 and fields[0]["breast_density"] == 3
    # one box per row, in the image item's label order (type, then abnormality id)
    _, per_row = by_image.for_item("/d/a.dcm", None, 2, one_per_row=True)
    assert [f["pathology"] for f in per_row] == ["BENIGN", "MALIGNANT"]
    by_label = LesionAttributes(rows, match_by="label")
    assert by_label.for_item("/d/a.dcm", "/d/a_1.dcm", 1)[1][0]["pathology"] == "MALIGNANT"
    # nothing known: the item's own fields, else None
    woman, fields = LesionAttributes(None).for_item(
        "/d/b.dcm", None, 1, {"patient_id": ["P_9"], "pathologies": ["BENIGN", "BENIGN"]}
    )
    assert woman == "P_9" and fields[0]["pathology"] == "BENIGN" and fields[0]["subtlety"] is None
    with pytest.raises(ValueError, match="Unsupported match_by"):
        LesionAttributes(rows, match_by="woman")


def test_bootstrap_curve_with_every_woman_once_is_the_froc():
    """The resampled FROC (read at the lesions' found scores only) equals the point FROC when each woman is drawn
    exactly once, and doubling every woman changes nothing."""
    from monai_cbis.evaluation.bootstrap import ClusterBootstrap
    from monai_cbis.evaluation.froc import FP_RATES, froc
    from monai_cbis.evaluation.lesion_level import _froc_ci

    rng = np.random.default_rng(3)
    found = np.where(rng.uniform(size=30) < 0.7, rng.uniform(size=30), -np.inf)
    found[:3] = [0.5, 0.5, 0.2]  # ties
    fps = np.concatenate([rng.uniform(size=50), [0.5, 0.2]])  # ties with found scores
    les_cl = [f"P_{i % 12}" for i in range(30)]
    fp_cl = [f"P_{i % 15}" for i in range(52)]
    img_cl = [f"P_{i % 15}" for i in range(40)]
    boot = ClusterBootstrap(img_cl, n_resamples=2, seed=0)
    boot.weights = np.array([np.ones(boot.n_clusters), 2 * np.ones(boot.n_clusters)])
    at, mean = _froc_ci(boot, found, les_cl, fps, fp_cl, img_cl, FP_RATES)
    expected = froc(found, fps, n_images=40)["sensitivity"]
    assert at[0].tolist() == pytest.approx(expected) and at[1].tolist() == pytest.approx(expected)
    assert mean[0] == pytest.approx(np.mean(expected))
