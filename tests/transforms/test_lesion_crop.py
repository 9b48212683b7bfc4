"""LesionCropd: the lesion crop by mask, else by box, else the whole image; invertible and lazy-aware."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose

from monai_cbis.transforms import CropByROId, LesionCropd, TrimBorderd

KEYS = ["image", "mask"]

# MONAI's Compose says it inverts eagerly even when it ran lazily: expected here
pytestmark = pytest.mark.filterwarnings("ignore:'lazy' is set to True but lazy execution is not supported")


def _item(phantom, as_type=np.asarray):
    ph = phantom(rows=200, cols=120, lesions=((80, 110, 30, 55),), border=0, label=False)
    return {"image": as_type(ph.chw), "mask": as_type(ph.mask_chw())}, ph


def test_with_a_mask_it_is_crop_by_roi(phantom, as_type):
    item, _ = _item(phantom, as_type)
    out = LesionCropd(KEYS, roi_key="mask", margin=5, square=True)(dict(item))
    ref = CropByROId(KEYS, roi_key="mask", margin=5, square=True)(dict(item))
    for key in KEYS:
        assert isinstance(out[key], MetaTensor) and torch.equal(out[key].as_tensor(), ref[key].as_tensor())
        assert [op["class"] for op in out[key].applied_operations] == ["CropByROI"]
    assert out["roi_start"].tolist() == ref["roi_start"].tolist() and out["roi_end"].tolist() == ref["roi_end"].tolist()
    with_box = LesionCropd(KEYS, roi_key="mask", margin=5, square=True)({**item, "box": [0, 0, 3, 3]})
    assert with_box["roi_start"].tolist() == ref["roi_start"].tolist()  # the mask wins over a box


@pytest.mark.parametrize(
    "box", [[40, 30, 50, 36], np.array([40, 30, 50, 36]), torch.tensor([40.0, 30.0, 50.0, 36.0]), [40.4, 30, 49.2, 36]]
)
def test_without_a_mask_the_box_plus_margin(phantom, box):
    item, _ = _item(phantom)
    crop = LesionCropd("image", roi_key="mask", box_key="box", margin=5)
    out = crop({"image": item["image"], "box": box})
    assert out["roi_start"].tolist() == [35, 25] and out["roi_end"].tolist() == [55, 41]  # fractions widen
    assert tuple(out["image"].shape) == (1, 20, 16) and "box" in out  # the box stays for later transforms
    back = crop.inverse(out)
    assert back["image"].applied_operations == [] and tuple(back["image"].shape) == (1, 120, 200)


def test_box_rules_follow_crop_by_roi(phantom):
    item, _ = _item(phantom)
    image = {"image": item["image"]}
    square = LesionCropd("image", margin=0, square=True)({**image, "box": [40, 30, 50, 36]})
    assert (square["roi_end"] - square["roi_start"]).tolist() == [10, 10]
    grown = LesionCropd("image", margin=0, min_size=32)({**image, "box": [0, 30, 10, 36]})
    assert grown["roi_start"].tolist() == [0, 17] and grown["roi_end"].tolist() == [32, 49]  # shifted inside
    clipped = LesionCropd("image", margin=20)({**image, "box": [100, 180, 120, 200]})
    assert clipped["roi_end"].tolist() == [120, 200]


def test_without_mask_or_box_the_whole_image_is_recorded_as_a_crop(phantom):
    item, _ = _item(phantom)
    for box_key, extra in [("box", {}), ("box", {"box": None}), (None, {"box": [40, 30, 50, 36]})]:
        crop = LesionCropd("image", roi_key="mask", box_key=box_key, margin=5)
        out = crop({"image": item["image"], **extra})
        assert out["roi_start"].tolist() == [0, 0] and out["roi_end"].tolist() == [120, 200]
        assert [op["class"] for op in out["image"].applied_operations] == ["CropByROI"]
        assert crop.inverse(out)["image"].applied_operations == []


def test_bad_boxes_name_the_key_and_the_value(phantom):
    item, _ = _item(phantom)
    crop = LesionCropd("image")
    with pytest.raises(ValueError, match=r"LesionCropd: key 'box': box \[50.0, 10.0, 20.0, 30.0\] is empty"):
        crop({"image": item["image"], "box": [50, 10, 20, 30]})
    with pytest.raises(ValueError, match=r"outside the image \(spatial shape \(W, H\) = \(120, 200\)\)"):
        crop({"image": item["image"], "box": [500, 10, 520, 30]})
    with pytest.raises(ValueError, match=r"expected one box \[x0, y0, x1, y1\], got \[1, 2, 3\]"):
        crop({"image": item["image"], "box": [1, 2, 3]})
    with pytest.raises(ValueError, match=r"got \[0, 0, nan, 4\]"):
        crop({"image": item["image"], "box": [0, 0, float("nan"), 4]})


def test_missing_keys_follow_monai_convention(phantom):
    item, _ = _item(phantom)
    with pytest.raises(KeyError, match="mask"):  # the mask is a key to crop here, and it is missing
        LesionCropd(KEYS, roi_key="mask")({"image": item["image"]})
    out = LesionCropd(KEYS, roi_key="mask", allow_missing_keys=True)({"image": item["image"]})
    assert "mask" not in out and tuple(out["image"].shape) == (1, 120, 200)
    with pytest.raises(ValueError, match="has no lesion"):  # an empty mask is not a missing mask
        LesionCropd(KEYS, roi_key="mask")({**item, "mask": np.zeros_like(item["mask"])})


@pytest.mark.parametrize("extra", [{}, {"box": [40, 30, 50, 36]}, {"mask": None}], ids=["whole", "box", "mask"])
def test_lazy_compose_equals_eager_and_inverts(phantom, extra):
    item, _ = _item(phantom)
    item = {"image": item["image"], **({"mask": item["mask"]} if "mask" in extra else extra)}
    results = {}
    for lazy in (False, True):
        # a lazy trim first: the box must be computed from the current (trimmed) pixels
        t = Compose(
            [TrimBorderd(KEYS, 0.05, allow_missing_keys=True), LesionCropd(KEYS, margin=4, allow_missing_keys=True)],
            lazy=lazy,
        )
        out = t(dict(item))
        assert out["image"].pending_operations == []
        results[lazy] = out
        back = t.inverse(out)
        assert back["image"].applied_operations == [] and tuple(back["image"].shape) == (1, 120, 200)
    np.testing.assert_array_equal(results[True]["image"].numpy(), results[False]["image"].numpy())
    for coord in ("roi_start", "roi_end"):
        np.testing.assert_array_equal(results[True][coord], results[False][coord])


@pytest.mark.parametrize("extra", [{}, {"box": [40, 30, 50, 36]}], ids=["whole", "box"])
def test_lazy_flag_is_honoured(phantom, extra):
    item, _ = _item(phantom)
    item = {"image": MetaTensor(torch.as_tensor(item["image"])), **extra}
    eager = LesionCropd("image")(dict(item))
    t = LesionCropd("image", lazy=True)
    assert t.lazy and t.cropper.lazy and t.requires_current_data
    out = t(dict(item))
    assert len(out["image"].pending_operations) == 1 and out["image"].applied_operations == []
    assert tuple(out["image"].peek_pending_shape()) == tuple(eager["image"].shape[1:])
    assert LesionCropd("image")(dict(item), lazy=True)["image"].pending_operations  # the call's flag too
