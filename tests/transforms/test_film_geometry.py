"""Scoring at the original film's geometry (monai_cbis.transforms.film_geometry): a known prediction on the working
grid, moved back onto the film as the evaluate configs do, scored against the film's own masks."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
import torch
from monai.transforms import Invertd
from PIL import Image

from monai_cbis.data.synthetic.encode import DicomHeader, dicom_bytes, write_dicom_file
from monai_cbis.evaluation.lesion_report import LesionLevelReport
from monai_cbis.evaluation.segmentation import segmentation_metrics
from monai_cbis.transforms import FilmMasks, FilmMasksd, ThresholdToKeyd, get_preset

SIDE = 200  # film 200 x 200 -> working grid 100 x 100: every working pixel is 2 x 2 film pixels


def _film(path) -> str:
    header = DicomHeader("1.2.826.0.1.3680043.8.498.7", "1.2.826.0.1.3680043.8.498.7.1",
                         "1.2.826.0.1.3680043.8.498.7.2", "Mass-Test_P_00001_LEFT_CC", "full mammogram images", "L",
                         "20170829", 1, 16)  # fmt: skip
    pixels = np.full((SIDE, SIDE), 2000, np.uint16)
    path.write_bytes(dicom_bytes(pixels, header))
    ds = pydicom.dcmread(str(path))
    ds.PixelSpacing = [0.1, 0.1]  # mm: one film pixel is 0.01 mm^2
    write_dicom_file(ds, str(path))
    return str(path)


def _mask(path, box) -> str:
    m = np.zeros((SIDE, SIDE), np.uint8)  # rows x columns
    (r0, r1), (c0, c1) = box
    m[r0:r1, c0:c1] = 255
    Image.fromarray(m).save(path)
    return str(path)


@pytest.fixture()
def item(tmp_path):
    big = _mask(tmp_path / "mass.png", ((60, 80), (20, 40)))  # rows 60-79, columns 20-39: 400 pixels
    speck = _mask(tmp_path / "speck.png", ((151, 152), (151, 152)))  # one pixel: a quarter of a working pixel
    return {"image": _film(tmp_path / "film.dcm"), "label": [big, speck], "laterality": "LEFT"}


def test_known_working_prediction_scored_on_the_film(item):
    preset = get_preset("full_mammogram", image_size=SIDE // 2, trim_fraction=0.0)
    pre = preset.inference()
    d = pre(dict(item))
    assert tuple(d["label"].shape) == (1, SIDE // 2, SIDE // 2)
    assert int(d["label"].sum()) == 100 and int(d["label_index"].max()) == 1  # the speck is gone on the working grid
    prob = torch.zeros_like(d["label"], dtype=torch.float32)
    prob[0, 10:30, 30:40] = 1.0  # working (x, y): columns 20-59, rows 60-79 of the film (the mass and as much beside)
    d["pred_prob"] = prob
    d = Invertd("pred_prob", transform=pre, orig_keys="image", nearest_interp=False)(d)
    d = ThresholdToKeyd("pred_prob", "pred")(d)
    d = FilmMasksd("label", items=[item], index_keys="label_index")(d)
    assert tuple(d["pred"].shape) == tuple(d["label"].shape) == (1, SIDE, SIDE)
    assert d["pred"].dtype == torch.uint8 and int(d["pred"].sum()) == 800  # exactly the 2 x 2 blow-up
    assert int(d["label"].sum()) == 401 and sorted(np.unique(d["label_index"].numpy()).tolist()) == [0, 1, 2]
    label, pred = d["label"].numpy()[0] > 0, d["pred"].numpy()[0] > 0
    m = segmentation_metrics(label, pred)
    assert m["lesion_dice"] == pytest.approx(2 * 400 / (401 + 800))  # hand-computed
    assert m["lesion_iou"] == pytest.approx(400 / 801)
    rec = LesionLevelReport(n_resamples=10).segmentation_record(
        "film.dcm", d, d["label"], d["pred_prob"], d["pred"], index=d["label_index"]
    )
    found = rec["found_score"]
    assert found[0] == 1.0 and not found[1] > 0  # the mass found, the speck (lost on the working grid) missed
    assert rec["area_mm2"].tolist() == pytest.approx([4.0, 0.01])  # 400 and 1 film pixels of 0.01 mm^2


def test_film_masks_merge_and_index(item):
    label, index = FilmMasks()(item["label"])
    assert tuple(label.shape) == (1, SIDE, SIDE) and label.dtype == torch.uint8 and int(label.sum()) == 401
    assert int((index == 2).sum()) == 1 and index.meta["spacing"] is not None


def test_unknown_image_names_itself(item, tmp_path):
    d = get_preset("full_mammogram", image_size=SIDE // 2).inference()(dict(item))
    with pytest.raises(KeyError, match="film.dcm.*eval_geometry 'working'"):
        FilmMasksd("label", items=[{"image": str(tmp_path / "other.dcm"), "label": item["label"]}])(d)
