"""Presets: paper A's full-mammogram pipeline and paper B's ROI crop on synthetic CBIS-DDSM files; inverse; parts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, Invertd

from monai_cbis.data import read_header
from monai_cbis.data.synthetic import make_synthetic_cbis
from monai_cbis.transforms import (
    PRESETS,
    CLAHEd,
    FastResized,
    LoadMammogramd,
    full_mammogram_transforms,
    get_preset,
    preset_compose,
    roi_crop_transforms,
)


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    return make_synthetic_cbis(tmp_path_factory.mktemp("cbis"), layout="classic", cases=8, seed=3)


@pytest.fixture(scope="module")
def image_items(collection):
    items: dict[str, dict] = {}
    for r in collection.rows:
        if not r.mask_wrong_size:
            items.setdefault(r.full_image, {"image": r.full_image, "label": [], "laterality": r.laterality})
            items[r.full_image]["label"].append(r.mask)
    return list(items.values())


def _truth(paths) -> np.ndarray:
    """The union of the mask files as a (W, H) bool array."""
    import pydicom

    return np.any([pydicom.dcmread(p).pixel_array > 127 for p in paths], axis=0).T


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


def test_full_mammogram_inverse_maps_a_prediction_onto_the_dicom_grid(image_items):
    preset = full_mammogram_transforms(image_size=160)
    item = next(it for it in image_items if it["laterality"] == "RIGHT" and len(it["label"]) >= 1)
    out = preset.deterministic(dict(item))
    out["pred"] = out["label"].clone()  # a perfect prediction
    inverted = Invertd("pred", transform=preset.deterministic, orig_keys="label", nearest_interp=True)(out)
    pred = inverted["pred"]
    truth = _truth(item["label"])
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
    preset = full_mammogram_transforms(**{"image_size": 64, **kwargs})
    out = preset.train()(dict(image_items[0]))
    assert tuple(out["image"].shape) == image_shape
    if kwargs.get("label_key", "label"):
        assert tuple(out["label"].shape) == (1,) + image_shape[1:]
    if kwargs.get("clahe_before_resize"):
        assert isinstance(preset.deterministic.transforms[2], CLAHEd)
        assert isinstance(preset.deterministic.transforms[3], FastResized)


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


def test_roi_crop_outputs_and_inverse(collection):
    preset = roi_crop_transforms(image_size=128, margin=16)
    rows = [r for r in collection.rows if not r.mask_wrong_size][:4]
    for r in rows:
        item = {"image": r.full_image, "mask": r.mask}
        out = preset.deterministic(dict(item))
        assert tuple(out["image"].shape) == tuple(out["mask"].shape) == (1, 128, 128)
        assert set(torch.unique(out["mask"]).tolist()) == {0.0, 1.0}
        assert 0.0 <= float(out["image"].min()) and float(out["image"].max()) <= 1.0
        truth = _truth([r.mask])
        xs, ys = np.nonzero(truth)  # one lesion per synthetic mask: its box plus the margin, clipped
        assert out["roi_start"].tolist() == [max(0, xs.min() - 16), max(0, ys.min() - 16)]
        assert out["roi_end"].tolist() == [min(truth.shape[0], xs.max() + 17), min(truth.shape[1], ys.max() + 17)]
        back = preset.deterministic.inverse(out)
        assert back["mask"].applied_operations == [] and tuple(back["mask"].shape[1:]) == truth.shape
        assert ((back["mask"][0].numpy() > 0.5) & truth).sum() > 0.5 * truth.sum()


def test_roi_crop_square_option(collection):
    r = next(r for r in collection.rows if not r.mask_wrong_size)
    out = roi_crop_transforms(64, margin=4, square=True).deterministic({"image": r.full_image, "mask": r.mask})
    size = (out["roi_end"] - out["roi_start"]).tolist()
    assert size[0] == size[1]


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


def test_registry_and_parts():
    assert set(PRESETS) == {"full_mammogram", "roi_crop", "lesion_classification"}
    det = preset_compose("full_mammogram", part="deterministic", image_size=32)
    assert isinstance(det, Compose) and isinstance(det.transforms[0], LoadMammogramd)
    rnd = preset_compose("roi_crop", part="random")
    assert all(hasattr(t, "R") for t in rnd.transforms)  # augmentation draws from each transform's own R
    train = get_preset("roi_crop").train()
    assert len(train.transforms) == len(get_preset("roi_crop").deterministic.transforms) + len(rnd.transforms)
    with pytest.raises(
        ValueError,
        match=r"Unsupported preset: 'x', available options are \['full_mammogram', 'lesion_classification', 'roi_c",
    ):
        get_preset("x")
    with pytest.raises(ValueError, match=r"Unsupported part: 'eval'"):
        preset_compose("roi_crop", part="eval")
    with pytest.raises(ValueError, match=r"Unsupported augmentation settings: \['shear'\]"):
        full_mammogram_transforms(augment={"shear": 0.1})


def test_roi_crop_without_a_mask_segments_the_whole_film_when_asked(collection):
    row = next(r for r in collection.rows if not r.mask_wrong_size)
    strict = roi_crop_transforms(image_size=32, missing_mask="error").inference()
    with pytest.raises(Exception) as e:  # MONAI wraps the loader's KeyError naming the missing key
        strict({"image": row.full_image})
    assert "Key `mask`" in str(e.value.__cause__)
    lenient = roi_crop_transforms(image_size=32, missing_mask="whole_image").inference()
    whole = lenient({"image": row.full_image})
    assert "mask" not in whole and whole["image"].shape == (1, 32, 32)
    inverted = lenient.inverse({"image": whole["image"]})["image"]
    assert tuple(inverted.shape[1:]) == read_header(row.full_image).shape[::-1]  # (W, H): back to the full film
    cropped = lenient({"image": row.full_image, "mask": row.mask})
    assert cropped["mask"].shape == (1, 32, 32)  # with a mask: the lesion crop, as in training
    with pytest.raises(ValueError, match="missing_mask"):
        roi_crop_transforms(missing_mask="skip")
