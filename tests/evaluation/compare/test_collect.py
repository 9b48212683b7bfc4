"""collect_reports / read_report: which files, which model and kind, and errors that name the file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from ignite.engine import Engine

from monai_cbis.evaluation import ReportError, SegmentationReportHandler, collect_reports
from monai_cbis.evaluation.compare import SCORE_KEYS


def test_model_identity_and_kind(tmp_path, rep):
    paths = rep.make_tree(tmp_path)
    entries = collect_reports(list(paths.values()))
    got = {e.model: (e.kind, e.model_from) for e in entries}
    assert got == {
        "unet_effb3": ("segmentation", "bundle"),
        "unet_roi": ("segmentation", "metrics"),
        "vgg16_classification": ("classification", "metrics"),
        "my_cnn": ("classification", "folder"),
    }
    effb3 = entries[0]
    assert effb3.bundle_dir == paths["unet_effb3"] and effb3.bundle_title == rep.METADATA_NAME
    assert effb3.eval_dir == os.path.join(paths["unet_effb3"], "eval")
    assert effb3.metrics_path == os.path.join(paths["unet_effb3"], "eval", "metrics.json")
    assert entries[1].bundle_dir is None and entries[1].bundle_title is None


def test_score_keys_are_what_the_report_handlers_write(rep):
    for kind, metrics in (("segmentation", rep.seg_metrics()), ("classification", rep.cls_metrics())):
        assert set(SCORE_KEYS[kind]) <= set(metrics), kind


def test_errors_name_the_file_and_what_was_expected(tmp_path, rep):
    with pytest.raises(FileNotFoundError, match="No such file or folder: .*nowhere"):
        collect_reports([tmp_path / "nowhere"])
    (tmp_path / "empty_bundle" / "eval").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"empty_bundle: looked for .*metrics\.json .*eval/\*\*/metrics\.json"):
        collect_reports([tmp_path / "empty_bundle"])

    wrong = rep.put(tmp_path / "wrong" / "metrics.json", {"loss": 0.3, "epoch": 2})
    with pytest.raises(ReportError, match=f"{wrong} is not an evaluation report: expected the key 'lesion_dice'.*"
                                          r"'accuracy'.*found keys \['epoch', 'loss'\]"):  # fmt: skip
        collect_reports([tmp_path / "wrong"])
    bad = rep.put(tmp_path / "bad" / "metrics.json", '{"lesion_dice": 0.5,')
    with pytest.raises(ReportError, match=f"{bad} is not valid JSON"):
        collect_reports([bad])
    listed = rep.put(tmp_path / "list.json", "[1, 2]")
    with pytest.raises(ReportError, match=f"{listed} holds a JSON list, expected an object"):
        collect_reports([listed])
    text = rep.put(tmp_path / "text" / "metrics.json", {"accuracy": "0.7"})
    with pytest.raises(ReportError, match=f"{text}: 'accuracy' is '0.7', expected a number or null"):
        collect_reports([text])
    nameless = rep.put(tmp_path / "nameless" / "metrics.json", {"accuracy": 0.7, "model": ""})
    with pytest.raises(ReportError, match=f"{nameless}: 'model' is '', expected a non-empty string"):
        collect_reports([nameless])


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
