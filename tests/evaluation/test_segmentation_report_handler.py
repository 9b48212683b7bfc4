"""SegmentationReportHandler driven by a real monai.engines.SupervisedEvaluator over tiny synthetic images."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch
from ignite.engine import Events
from monai.data import DataLoader, MetaTensor
from monai.engines import SupervisedEvaluator
from monai.transforms import AsDiscreted
from PIL import Image

from monai_cbis.evaluation import SEGMENTATION_CSV_COLUMNS, SegmentationReportHandler, read_csv


class Echo(torch.nn.Module):
    """The 'network' predicts what the image encodes: channel 0 of the input is the lesion probability."""

    def __init__(self, two_channels: bool = False):
        super().__init__()
        self.two_channels = two_channels

    def forward(self, x):
        p = x[:, :1] * 1.0
        return torch.cat([1 - p, p], dim=1) if self.two_channels else p


def square(r0, c0, size=4, shape=(16, 16)):
    a = np.zeros((1,) + shape, dtype=np.float32)
    a[0, r0 : r0 + size, c0 : c0 + size] = 1
    return a


# (file name, label, prediction encoded in the image, expected lesion dice, expected lesion iou)
CASES = [
    ("d_perfect.png", square(2, 2), square(2, 2), 1.0, 1.0),
    ("a_half.png", square(2, 2), square(2, 4), 0.5, 1 / 3),  # 8 of 16 px overlap
    ("e_disjoint.png", square(0, 0), square(10, 10), 0.0, 0.0),
    ("b_empty.png", np.zeros((1, 16, 16), np.float32), np.zeros((1, 16, 16), np.float32), 1.0, 1.0),
    ("c_missed.png", square(5, 5), np.zeros((1, 16, 16), np.float32), 0.0, 0.0),
]


def make_loader(tmp_path, batch_size=2, cases=CASES, prob=True):
    data = []
    for name, label, pred, _, _ in cases:
        fn = str(tmp_path / "images" / name)
        image = pred * 0.8 + 0.1 if prob else pred  # probabilities 0.9 / 0.1: thresholding is exercised
        data.append({"image": MetaTensor(image, meta={"filename_or_obj": fn}), "label": MetaTensor(label)})
    return DataLoader(data, batch_size=batch_size, shuffle=False, num_workers=0)


def make_evaluator(loader, two_channels=False, postprocessing=None, decollate=True):
    return SupervisedEvaluator(
        device=torch.device("cpu"),
        val_data_loader=loader,
        network=Echo(two_channels),
        postprocessing=postprocessing,
        decollate=decollate,
    )


def png_size(path):
    with Image.open(path) as im:
        return im.size


@pytest.mark.parametrize("two_channels", [False, True])
def test_files_and_values(tmp_path, two_channels):
    out = tmp_path / "report"
    post = AsDiscreted(keys="pred", argmax=True, to_onehot=2) if two_channels else None
    evaluator = make_evaluator(make_loader(tmp_path), two_channels, post)
    SegmentationReportHandler(str(out), num_overlays=3, panel_px=64, model_name="unet_effb3").attach(evaluator)
    evaluator.run()

    m = json.loads((out / "metrics.json").read_text())
    dice = [c[3] for c in CASES]
    iou = [c[4] for c in CASES]
    assert m["n_images"] == 5
    assert m["lesion_dice"] == pytest.approx(np.mean(dice))
    assert m["median"]["lesion_dice"] == pytest.approx(np.median(dice))
    assert m["lesion_iou"] == pytest.approx(np.mean(iou))
    assert (m["n_empty_label"], m["n_empty_pred"], m["n_both_empty"]) == (1, 2, 1)
    assert m["paper_reference"]["figures"]["mean_dice_incl_background"] == 0.968  # True: the bundle spec's
    assert m["epoch"] == 1
    assert m["threshold"] == 0.5

    rows = read_csv(out / "per_image.csv")
    assert list(rows[0]) == list(SEGMENTATION_CSV_COLUMNS)
    assert [r["case"] for r in rows] == ["a_half", "b_empty", "c_missed", "d_perfect", "e_disjoint"]
    by_case = {r["case"]: r for r in rows}
    assert float(by_case["a_half"]["lesion_dice"]) == pytest.approx(0.5)
    assert float(by_case["a_half"]["lesion_iou"]) == pytest.approx(1 / 3)
    assert int(by_case["a_half"]["overlap_pixels"]) == 8
    assert int(by_case["c_missed"]["label_lesion_pixels"]) == 16 and int(by_case["c_missed"]["pred_lesion_pixels"]) == 0
    assert by_case["a_half"]["image"].endswith("images/a_half.png")
    # background-inclusive mean of the half-overlap case: tp 8, fp 8, fn 8, tn 232
    bg_dice = 2 * 232 / (2 * 232 + 16)
    assert float(by_case["a_half"]["mean_dice_incl_background"]) == pytest.approx((0.5 + bg_dice) / 2)
    assert float(by_case["a_half"]["pixel_accuracy"]) == pytest.approx(240 / 256)

    # overlays: the first three by file name, three 64 px panels plus the header band
    assert m["files"]["overlays"] == ["overlays/a_half.png", "overlays/b_empty.png", "overlays/c_missed.png"]
    assert sorted(p.name for p in (out / "overlays").iterdir()) == ["a_half.png", "b_empty.png", "c_missed.png"]
    assert png_size(out / "overlays" / "a_half.png") == (3 * 64, 64 + 40)


def test_rerun_resets_and_worst_selection_replaces_overlays(tmp_path):
    out = tmp_path / "report"
    evaluator = make_evaluator(make_loader(tmp_path, batch_size=3))
    handler = SegmentationReportHandler(str(out), num_overlays=2, panel_px=32, overlay_selection="first")
    handler.attach(evaluator)
    evaluator.run()
    evaluator.run()  # re-run, as a ValidationHandler does every validation epoch
    m = json.loads((out / "metrics.json").read_text())
    assert m["n_images"] == 5 and len(read_csv(out / "per_image.csv")) == 5
    handler.overlay_selection = "worst"
    evaluator.run()
    m = json.loads((out / "metrics.json").read_text())
    # worst lesion Dice (0), ties broken by path: c_missed before e_disjoint; the previous overlays are removed
    assert m["files"]["overlays"] == ["overlays/c_missed.png", "overlays/e_disjoint.png"]
    assert sorted(p.name for p in (out / "overlays").iterdir()) == ["c_missed.png", "e_disjoint.png"]


def test_overlay_pool_stays_bounded_and_deterministic(tmp_path):
    many = [(f"img_{i:03d}.png", square(i % 8, 2), square(i % 8, 3), None, None) for i in range(30)][::-1]
    evaluator = make_evaluator(make_loader(tmp_path, batch_size=4, cases=many))
    handler = SegmentationReportHandler(str(tmp_path / "r"), num_overlays=2, panel_px=32)
    handler.attach(evaluator)
    sizes = []
    evaluator.add_event_handler(Events.ITERATION_COMPLETED, lambda e: sizes.append(len(handler._pool)))
    evaluator.run()
    assert max(sizes) <= 2 * 2 + 4  # never more than 2 x num_overlays plus one batch
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m["files"]["overlays"] == ["overlays/img_000.png", "overlays/img_001.png"]


def test_no_overlays_and_plain_tensors_without_file_names(tmp_path):
    out = tmp_path / "report"
    data = [{"image": torch.as_tensor(c[2]), "label": torch.as_tensor(c[1])} for c in CASES[:3]]
    evaluator = make_evaluator(DataLoader(data, batch_size=2), decollate=False)
    SegmentationReportHandler(str(out), num_overlays=0).attach(evaluator)
    evaluator.run()
    rows = read_csv(out / "per_image.csv")
    assert [r["image"] for r in rows] == ["item_000000", "item_000001", "item_000002"]
    assert [float(r["lesion_dice"]) for r in rows] == pytest.approx([1.0, 0.5, 0.0])
    assert not (out / "overlays").exists()


def test_shape_mismatch_names_file_and_shapes(tmp_path):
    class Shrink(torch.nn.Module):
        def forward(self, x):
            return x[..., :8, :8] * 1.0

    evaluator = SupervisedEvaluator(torch.device("cpu"), make_loader(tmp_path, cases=CASES[:1]), Shrink())
    SegmentationReportHandler(str(tmp_path / "r")).attach(evaluator)
    with pytest.raises(ValueError, match=r"\(8, 8\).*\(16, 16\).*d_perfect\.png"):
        evaluator.run()


def test_bad_arguments():
    assert SegmentationReportHandler("x").requires_all_ranks
    assert not SegmentationReportHandler("x", gather_across_ranks=False).requires_all_ranks
    with pytest.raises(ValueError, match="overlay_selection.*'random'.*first"):
        SegmentationReportHandler("x", overlay_selection="random")
    with pytest.raises(ValueError, match="num_overlays"):
        SegmentationReportHandler("x", num_overlays=-1)


def test_logs_headline(tmp_path, caplog):
    evaluator = make_evaluator(make_loader(tmp_path))
    SegmentationReportHandler(str(tmp_path / "r"), num_overlays=0, name="seg_report_test").attach(evaluator)
    with caplog.at_level(logging.INFO, logger="seg_report_test"):
        evaluator.run()
    assert "lesion Dice 0.5000" in caplog.text and "background-inclusive" in caplog.text


def test_image_of_another_size_gives_a_blank_overlay_not_a_crash(tmp_path, caplog):
    class Crop(torch.nn.Module):
        def forward(self, x):
            return x[..., :8, :8] * 1.0

    data = [{"image": MetaTensor(square(0, 0), meta={"filename_or_obj": "/d/x.png"}), "label": square(0, 0)[:, :8, :8]}]
    evaluator = SupervisedEvaluator(torch.device("cpu"), DataLoader(data, batch_size=1), Crop())
    SegmentationReportHandler(str(tmp_path / "r"), num_overlays=1, panel_px=32, name="seg_shape_test").attach(evaluator)
    with caplog.at_level(logging.WARNING, logger="seg_shape_test"):
        evaluator.run()
    assert "(16, 16), the label (8, 8)" in caplog.text
    assert png_size(tmp_path / "r" / "overlays" / "x.png") == (96, 72)
