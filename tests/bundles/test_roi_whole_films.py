"""evaluate_films.json: paper B's crop-trained segmenter (unet_roi) evaluated on the whole test films, on the lesion
level's scale (issue 10), beside its crop evaluation in ``python -m monai_cbis report``."""

from __future__ import annotations

import json
import os

import pytest
from bundle_workflow import checked_lesion_report, checked_segmentation_report, config_workflow, run
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis, read_header
from monai_cbis.data.items import lesion_items
from monai_cbis.evaluation.compare import collect_reports, comparison_rows
from monai_cbis.evaluation.compare.rows import lesion_level_rows
from monai_cbis.transforms import get_preset
from monai_cbis.transforms.crop_scale import crop_scales, downsample_from_scales

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = os.path.join(REPO, "bundles", "unet_roi", "configs")
#: 64 x 64 crops with a 16-pixel margin: the whole films then come out at 1/2 to 1/3 of their size.
QUICK = {"image_size": [64, 64], "margin": 16, "batch_size": 4, "num_workers": 0, "val_frac": 0.4}


def workflow(files, workflow_type, **overrides):
    paths = [os.path.join(CONFIGS, f) for f in files]
    return config_workflow(paths, os.path.join(CONFIGS, "metadata.json"), workflow_type, **overrides)


@pytest.fixture(scope="module")
def trained(request, tmp_path_factory):
    tmp = scratch_dir(request, tmp_path_factory, "roi_films")
    data = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=8, seed=5)
    env = {"dataset_dir": data.root, "cache_dir": str(tmp / "cache"), "bundle_root": str(tmp / "unet_roi")}
    run(workflow(["train.json"], "train", epochs=1, **env, **QUICK))
    return env, data


def test_evaluate_films_scores_whole_films_at_the_training_scale(trained):
    env, data = trained
    run(workflow(["train.json", "evaluate.json"], "eval", **env, **QUICK))
    run(workflow(["train.json", "evaluate_films.json"], "eval", **env, **QUICK))
    out = os.path.join(env["bundle_root"], "eval_films")
    metrics, rows = checked_segmentation_report(out)
    assert metrics["model"] == "unet_roi (whole films)"

    # the scale: the median training crop, from the training section's lesions (none of the test section's)
    train = lesion_items(data.root, "training", target="mask", val_frac=QUICK["val_frac"])
    preset = get_preset("roi_crop", image_size=QUICK["image_size"], mask_key="label", margin=QUICK["margin"])
    scales = crop_scales(train, QUICK["image_size"], QUICK["margin"])
    scale = metrics["film_scale"]
    assert scale["requested"] == "auto" and scale["n_lesions"] == len(train) > 0
    assert scale["downsample"] == downsample_from_scales(scales) >= 1
    assert preset.params["margin"] == QUICK["margin"]

    # one row per test film, each the whole (breast-cropped) film divided by the factor, never one window
    truth: dict[str, list[dict]] = {}
    for r in data.rows:
        if r.split == "test" and r.abnormality_type == "mass" and not r.mask_wrong_size:
            truth.setdefault(r.full_image, []).append(vars(r))
    assert sorted(os.path.realpath(r["image"]) for r in rows) == sorted(os.path.realpath(f) for f in truth)
    for r in rows:
        hdr = read_header(r["image"])
        assert 64 * 64 < int(r["total_pixels"]) <= hdr.rows * hdr.columns / scale["downsample"] ** 2
    assert metrics["breast_gate"]["images"] == len(rows)
    lesion_level, lesions = checked_lesion_report(out, truth)
    assert len(lesions) == sum(len(v) for v in truth.values())  # one per test CSV lesion
    assert lesion_level["lesions_from"].startswith("one per mask of the item")

    # `report` on the bundle folder: the crop evaluation and the whole-film one, two rows
    entries = collect_reports([env["bundle_root"]])
    assert [e.model for e in entries] == ["unet_roi", "unet_roi (whole films)"]
    rows_by_kind = comparison_rows(entries)
    seg = {r["model"]: r for r in rows_by_kind["segmentation"]}
    assert set(seg) == {"unet_roi", "unet_roi (whole films)"}
    assert {r["model"] for _, r in lesion_level_rows(rows_by_kind)} == set(seg)  # both in the lesion-level table
    assert seg["unet_roi (whole films)"]["froc_mean_sensitivity"] == metrics["froc_mean_sensitivity"]
    assert seg["unet_roi"]["paper"] is not None and seg["unet_roi (whole films)"]["paper"] is None  # crops' figures
    with open(os.path.join(env["bundle_root"], "eval", "metrics.json")) as f:
        assert json.load(f)["lesion_level"]["n_lesions"] == len(lesions)  # the same lesions, crop by crop
