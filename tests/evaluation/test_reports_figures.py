"""Report writing (atomic, strict JSON, CSV round trip, case names) and figure sizes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from monai_cbis.evaluation import (
    case_names,
    confusion_figure,
    json_ready,
    overlay_figure,
    read_csv,
    roc_figure,
    save_png,
    training_curves_figure,
    write_csv,
    write_json,
)


def leftovers(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith(".tmp"))


def test_json_is_strict():
    data = json_ready({"a": np.float32(0.25), "nan": float("nan"), "inf": np.inf, "arr": np.array([1, 2]), "b": True})
    assert data == {"a": 0.25, "nan": None, "inf": None, "arr": [1, 2], "b": True}
    json.dumps(data, allow_nan=False)


def test_failed_json_write_keeps_previous_file(tmp_path):
    path = tmp_path / "metrics.json"
    write_json({"lesion_dice": 0.5}, path)
    with pytest.raises(TypeError):
        write_json({"lesion_dice": 0.7, "oops": object()}, path)  # fails mid-serialization
    assert json.loads(path.read_text()) == {"lesion_dice": 0.5}
    assert leftovers(tmp_path) == []


class Boom:
    def __str__(self):
        raise RuntimeError("disk full")


def test_failed_csv_write_keeps_previous_file(tmp_path):
    path = tmp_path / "per_image.csv"
    write_csv([{"image": "a.png", "lesion_dice": 0.5}], ["image", "lesion_dice"], path)
    before = path.read_text()
    rows = [{"image": "a.png", "lesion_dice": 0.9}] * 50 + [{"image": Boom(), "lesion_dice": 1.0}]
    with pytest.raises(RuntimeError, match="disk full"):
        write_csv(rows, ["image", "lesion_dice"], path)
    assert path.read_text() == before
    assert leftovers(tmp_path) == []


def test_failed_png_write_keeps_previous_file(tmp_path):
    path = tmp_path / "roc.png"
    save_png(roc_figure([0, 1], [0, 1], 0.5), path)
    before = path.read_bytes()
    fig = roc_figure([0, 0, 1], [0, 1, 1], 1.0)

    def broken_savefig(f, **kwargs):
        f.write(b"\x89PNG partial")
        raise OSError("killed")

    fig.savefig = broken_savefig
    with pytest.raises(OSError, match="killed"):
        save_png(fig, path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_csv_round_trip_and_missing_column(tmp_path):
    rows = [
        {"image": "a.png", "v": 0.125, "n": 3, "none": None},
        {"image": "b,c.png", "v": float("nan"), "n": 0, "none": 1},
    ]
    write_csv(rows, ["image", "v", "n", "none"], tmp_path / "x.csv")
    back = read_csv(tmp_path / "x.csv")
    assert back == [
        {"image": "a.png", "v": "0.125", "n": "3", "none": ""},
        {"image": "b,c.png", "v": "", "n": "0", "none": "1"},
    ]
    with pytest.raises(KeyError, match="lacks columns \\['v'\\]"):
        write_csv([{"image": "a"}], ["image", "v"], tmp_path / "y.csv")


def test_case_names_unique_and_short():
    classic = [
        "/data/CBIS-DDSM/Mass-Training_P_00001_LEFT_CC/07-20-2016-DDSM-74994/1.000000-full mammogram-24515/1-1.dcm",
        "/data/CBIS-DDSM/Mass-Training_P_00004_LEFT_CC/07-20-2016-DDSM-74994/1.000000-full mammogram-24515/1-1.dcm",
    ]
    names = case_names(classic)
    assert names[0] != names[1]
    assert names[0].startswith("Mass-Training_P_00001_LEFT_CC__") and names[0].endswith("__1-1")
    assert case_names(["/a/b/x.png", "/a/c/y.png"]) == ["x", "y"]
    assert case_names(["/a/img.nii.gz"]) == ["img"]
    assert case_names(["same.png", "same.png"]) == ["same", "same~2"]
    assert case_names(["item_000001"]) == ["item_000001"]
    assert all("/" not in n and " " not in n for n in names)


def png_size(path):
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        return im.size


def test_overlay_panel_layout_and_orientation(tmp_path):
    image = np.zeros((1, 40, 20), dtype=np.float32)  # (C, W, H): 40 columns, 20 rows
    mask = np.zeros((1, 40, 20), dtype=np.uint8)
    mask[0, 30:38, 2:8] = 1  # right-hand side, near the top
    fig = overlay_figure(image, mask, mask, title="case", panel_px=120, title_px=30)
    path = save_png(fig, tmp_path / "overlays" / "case.png")
    assert png_size(path) == (360, 150)
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    gt_panel = rgb[30:, 120:240]
    green = (gt_panel[..., 1] > 100) & (gt_panel[..., 0] < 100)
    rows, cols = np.nonzero(green)
    assert rows.size and cols.mean() > 60 and rows.mean() < 60  # shown right-hand side, upper half
    with pytest.raises(ValueError, match="display shape"):
        overlay_figure(image, mask[:, :10], mask)


def test_other_figures_have_fixed_sizes(tmp_path):
    hist = [
        {"epoch": 1, "train_loss": 0.9, "val_mean_dice": None},
        {"epoch": 2, "train_loss": 0.5, "val_mean_dice": 0.6},
    ]
    assert png_size(save_png(training_curves_figure(hist, metric_names=["val_mean_dice"]), tmp_path / "c.png")) == (
        1000,
        400,
    )
    assert png_size(save_png(roc_figure([0, 0.5, 1], [0, 0.8, 1], 0.8, (0.5, 0.8)), tmp_path / "r.png")) == (500, 500)
    assert png_size(save_png(confusion_figure([[3, 1], [0, 2]]), tmp_path / "m.png")) == (450, 400)
    with pytest.raises(ValueError, match="does not match class names"):
        confusion_figure([[1, 2, 3]])
