"""LesionBoxesd (one box per CSV lesion, empty masks counted) and the box geometry between the original film and the
preprocessed image: a box read from a mask pushed through the same geometry must equal the mapped box."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_cbis.transforms import (
    CropBreastd,
    FastResized,
    FlipToLeftd,
    ImageToOriginalBoxd,
    LesionBoxesd,
    OriginalToImageBoxd,
    TrimBorderd,
)
from monai_cbis.transforms.boxes import foreground_bbox


def _film(w=300, h=500, flip=False):
    """A (1, W, H) film: breast along x = 0 (or x = W when flip), a bright scanner label far from it."""
    img = np.full((1, w, h), 200, np.uint16)
    img[0, : w * 2 // 3, 40 : h - 40] = 3000
    img[0, w - 12 : w - 4, 5:30] = 4000  # scanner label, outside the breast
    if flip:
        img = img[:, ::-1].copy()
    aff = torch.diag(torch.tensor([0.05, 0.05, 1.0], dtype=torch.float64))
    t = MetaTensor(torch.as_tensor(img), affine=aff)
    t.meta["original_affine"] = aff.clone()
    return t


def _mask_like(film, x0, x1, y0, y1):
    m = torch.zeros_like(film, dtype=torch.uint8)
    m[0, x0:x1, y0:y1] = 255
    out = MetaTensor(m, affine=film.affine.clone())
    out.meta["original_affine"] = film.meta["original_affine"].clone()
    return out


def test_one_box_per_mask_and_empty_masks_counted():
    m = np.zeros((3, 20, 16), np.uint8)
    m[0, 2:5, 3:9] = 255
    m[0, 10:12, 10:12] = 255  # two blobs of one lesion: still one box (the lesion's whole extent)
    m[2, 15:18, 1:4] = 1  # a 0/1 mask
    d = LesionBoxesd("label", class_key="pathologies")(
        {"label": m, "pathologies": ["MALIGNANT", "BENIGN", "BENIGN_WITHOUT_CALLBACK"]}
    )
    assert d["box"].tolist() == [[2.0, 3.0, 12.0, 12.0], [15.0, 1.0, 18.0, 4.0]]
    assert d["label"].tolist() == [1, 0]
    assert d["lesions_dropped"] == 1
    assert d["box"].dtype == torch.float32 and d["label"].dtype == torch.int64


def test_type_classes_broadcast_and_bad_values_named():
    m = np.zeros((2, 8, 8), np.uint8)
    m[:, 1:3, 1:3] = 255
    d = LesionBoxesd("label")({"label": m, "abnormality_types": ["calcification"]})
    assert d["label"].tolist() == [1, 1]
    with pytest.raises(ValueError, match="abnormality_types.*'cyst'"):
        LesionBoxesd("label")({"label": m, "abnormality_types": ["cyst"]})
    with pytest.raises(ValueError, match="3 values"):
        LesionBoxesd("label", class_key="pathologies")({"label": m, "pathologies": ["BENIGN"] * 3})


@pytest.mark.parametrize("flip", [False, True])
def test_mapped_box_matches_the_mask_through_the_same_geometry(flip):
    film = _film(flip=flip)
    x0, x1, y0, y1 = (150, 190, 200, 260) if not flip else (110, 150, 200, 260)
    d = {"image": film, "mask": _mask_like(film, x0, x1, y0, y1), "laterality": "RIGHT" if flip else "LEFT"}
    d["box"] = torch.tensor([[x0, y0, x1, y1]], dtype=torch.float32)
    keys = ["image", "mask"]
    for t in (
        TrimBorderd(keys, 0.02),
        CropBreastd(keys, source_key="image"),
        FastResized(keys, 100, size_mode="longest"),
        FlipToLeftd(keys),
    ):
        d = t(d)
    d = OriginalToImageBoxd("box", "image")(d)
    m = d["mask"][0].numpy()
    s0, e0, s1, e1 = foreground_bbox(m, 127.5)  # coverage > half: the mask's box after resampling
    expected = np.array([s0, s1, e0, e1], np.float32)
    assert np.abs(d["box"][0].numpy() - expected).max() <= 1.0
    back = ImageToOriginalBoxd("box", "image")(d)
    assert np.allclose(back["box"][0].numpy(), [x0, y0, x1, y1], atol=1e-3)


def test_box_outside_the_crop_is_dropped_and_counted():
    film = _film()
    d = {"image": TrimBorderd("image", 0.1)({"image": film})["image"]}
    d["box"] = torch.tensor([[0.0, 0.0, 20.0, 20.0], [100.0, 100.0, 120.0, 140.0]])  # the first in the trimmed border
    d["label"] = torch.tensor([0, 1])
    out = OriginalToImageBoxd("box", "image", label_keys="label")(d)
    assert out["box"].tolist() == [[70.0, 50.0, 90.0, 90.0]]
    assert out["label"].tolist() == [1] and out["lesions_dropped"] == 1


def test_plain_tensor_is_a_clear_error():
    with pytest.raises(ValueError, match="original_affine"):
        ImageToOriginalBoxd("box", "image")({"image": torch.zeros(1, 4, 4), "box": torch.zeros(1, 4)})
