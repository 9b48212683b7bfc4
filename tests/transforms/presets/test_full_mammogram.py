"""The full-mammogram preset (paper A) on synthetic CBIS-DDSM files: outputs, inverse, variants, augmentation."""

from __future__ import annotations

import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Invertd

from monai_cbis.data.synthetic import make_synthetic_cbis
from monai_cbis.transforms import (
    CLAHE,
    FastResize,
    FlipToLeft,
    LoadMammogram,
    LoadMammogramd,
    MedianFilter,
    TrimBorder,
    full_mammogram_transforms,
)
from monai_cbis.transforms.presets.full_mammogram import FullMammogramSettings


def test_full_mammogram_outputs(image_items):
    preset = full_mammogram_transforms(image_size=96)
    both_sides = {it["laterality"] for it in image_items}
    assert both_sides == {"LEFT", "RIGHT"}
    for item in image_items[:6]:
        out = preset.deterministic(dict(item))
        img, lab = out["image"], out["label"]
        assert isinstance(img, MetaTensor) and img.dtype == torch.float32 and tuple(img.shape) == (1, 96, 96)
        assert 0.0 <= float(img.min()) and float(img.max()) <= 1.0
        assert lab.dtype == torch.float32 and set(torch.unique(lab).tolist()) <= {0.0, 1.0}
        assert float(lab.sum()) > 0
        ops = [op["class"] for op in img.applied_operations]
        assert ops == ["TrimBorder", "FastResize", "FlipToLeft"]
        profile = img[0].mean(dim=1)  # mean signal per x
        assert profile[:48].sum() > profile[48:].sum()  # chest wall on the left, whatever the laterality


def test_full_mammogram_inverse_maps_a_prediction_onto_the_dicom_grid(image_items, mask_union):
    preset = full_mammogram_transforms(image_size=160)
    item = next(it for it in image_items if it["laterality"] == "RIGHT" and len(it["label"]) >= 1)
    out = preset.deterministic(dict(item))
    out["pred"] = out["label"].clone()  # a perfect prediction
    inverted = Invertd("pred", transform=preset.deterministic, orig_keys="label", nearest_interp=True)(out)
    pred = inverted["pred"]
    truth = mask_union(item["label"])
    assert pred.applied_operations == [] and tuple(pred.shape[1:]) == truth.shape
    p = pred[0].numpy() > 0.5
    assert (p & truth).sum() / (p | truth).sum() > 0.6  # lands on the lesion in the original orientation
    back = preset.deterministic.inverse(preset.deterministic(dict(item)))
    assert back["image"].applied_operations == [] and tuple(back["image"].shape[1:]) == truth.shape


@pytest.mark.parametrize(
    "kwargs, image_shape",
    [
        ({"clahe_before_resize": True}, (1, 64, 64)),
        ({"crop_breast": True, "median_radius": 0}, (1, 64, 64)),
        ({"out_channels": 3, "image_size": (64, 96)}, (3, 64, 96)),
        ({"label_key": None}, (1, 64, 64)),
    ],
)
def test_full_mammogram_variants(image_items, kwargs, image_shape):
    """Each option changes what it says (content, checked on the deterministic part), and training still runs."""
    labelled = next(it for it in image_items if it["laterality"] == "RIGHT")
    item = labelled if kwargs.get("label_key", "label") else {k: v for k, v in labelled.items() if k != "label"}
    preset = full_mammogram_transforms(**{"image_size": 64, **kwargs})
    out = preset.train()(dict(item))
    assert tuple(out["image"].shape) == image_shape
    if "label" in item:
        assert tuple(out["label"].shape) == (1,) + image_shape[1:]

    det = preset.deterministic(dict(item))
    image = det["image"].as_tensor()
    size = kwargs.get("image_size", 64)
    default = full_mammogram_transforms(image_size=size).deterministic(dict(labelled))
    ops = [op["class"] for op in det["image"].applied_operations]
    if kwargs.get("clahe_before_resize"):
        # by hand: CLAHE on the trimmed full film, then the resize, flip and median
        film = TrimBorder(0.02)(LoadMammogram()(item["image"]))
        expected = MedianFilter(1)(FlipToLeft("RIGHT")(FastResize(64)(CLAHE()(film))))
        assert torch.allclose(image, expected.as_tensor(), atol=1e-6)
        assert (image - default["image"].as_tensor()).abs().mean() > 0.005  # not the default order's result
    elif kwargs.get("crop_breast"):
        assert ops == ["TrimBorder", "CropBreast", "FastResize", "FlipToLeft"]
        trimmed, cropped = (op["orig_size"] for op in det["image"].applied_operations[1:3])
        assert cropped[0] < trimmed[0]  # the empty background beyond the breast was cut off
        dark = (default["image"] < 0.05).float().mean()
        assert (image < 0.05).float().mean() < dark  # less background in the frame
        # radius 0 skips the median: the radius-1 preset is this output median-filtered
        with_median = full_mammogram_transforms(image_size=64, crop_breast=True).deterministic(dict(item))["image"]
        assert not torch.equal(image, with_median.as_tensor())
        assert torch.allclose(MedianFilter(1)(image), with_median.as_tensor(), atol=1e-6)
    elif kwargs.get("out_channels") == 3:
        grey = default["image"].as_tensor()
        assert grey.shape == (1, 64, 96) and torch.equal(image, grey.expand(3, -1, -1))  # the grey image, thrice
    else:  # an image without masks: no label, and the same image as with them
        assert "label" not in det and "label" not in out and torch.equal(image, default["image"].as_tensor())


def test_random_part_is_reproducible(image_items):
    preset = full_mammogram_transforms(image_size=64)
    cached = preset.deterministic(dict(image_items[0]))

    def draw(seed):
        preset.random.set_random_state(seed)
        return [
            preset.random({k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in cached.items()})["image"]
            for _ in range(3)
        ]

    a, b, c = draw(0), draw(0), draw(1)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(a, c, strict=True))


def test_kaggle_jpeg_layout(tmp_path):
    coll = make_synthetic_cbis(tmp_path / "kaggle", layout="kaggle", cases=8, seed=4)
    r = next(r for r in coll.rows if not r.mask_wrong_size)
    assert r.full_image.endswith(".jpg") and r.mask.endswith(".jpg")
    out = full_mammogram_transforms(64).deterministic(
        {"image": r.full_image, "label": [r.mask], "laterality": r.laterality}
    )
    assert set(torch.unique(out["label"]).tolist()) == {0.0, 1.0}  # JPEG noise thresholded away
    raw = LoadMammogramd("image")({"image": r.full_image})["image"]
    assert raw.dtype == torch.uint8 and raw.meta["source_format"] == "jpeg"


def test_index_map_follows_the_label_through_the_pipeline(image_items):
    """The lesion index map goes through the same resize, flip and augmentation as the label (nearest): its non-zero
    pixels are the label's lesion pixels and its values the item's mask positions (1-based)."""
    preset = full_mammogram_transforms(image_size=96, augment={"rotate_prob": 1.0, "flip_prob": 1.0})
    item = max(image_items, key=lambda it: len(it["label"]))
    assert len(item["label"]) >= 2
    for pipeline in (preset.deterministic, preset.train()):
        out = pipeline(dict(item))
        idx, lab = out["label_index"], out["label"]
        assert tuple(idx.shape) == tuple(lab.shape) == (1, 96, 96)
        assert [op["class"] for op in idx.applied_operations] == [op["class"] for op in lab.applied_operations]
        assert torch.equal(idx > 0, lab > 0.5)
        assert set(torch.unique(idx).tolist()) <= set(range(len(item["label"]) + 1))
    assert "label_index" not in full_mammogram_transforms(image_size=96, label_index_key=None).deterministic(dict(item))
    assert FullMammogramSettings(96, label_key=None).keys == ["image"]  # inference (MONAI Label): no masks, no map
