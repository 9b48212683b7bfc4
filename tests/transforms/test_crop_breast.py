"""CropBreast(d): largest bright region after Otsu, for both lateralities; invertible; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from monai.data import MetaTensor
from monai.transforms import Compose

from monai_cbis.transforms import CropBreast, CropBreastd, TrimBorderd


def _breast_box(ph):
    """Bounding box of the phantom's breast (no border, no label) in (W, H) coordinates."""
    tissue = (ph.image > 1000) & (ph.image < 3000)
    rows, cols = np.nonzero(tissue)
    return (cols.min(), cols.max() + 1), (rows.min(), rows.max() + 1)


@pytest.mark.parametrize("laterality", ["LEFT", "RIGHT"])
def test_finds_the_breast_and_drops_background_and_label(phantom, as_type, laterality):
    ph = phantom(rows=300, cols=180, laterality=laterality, border=0, label=True)
    crop = CropBreast()
    out = crop(as_type(ph.chw))
    assert isinstance(out, MetaTensor)
    (x0, x1), (y0, y1) = _breast_box(ph)
    w, h = out.shape[1:]
    assert abs(w - (x1 - x0)) <= 6 and abs(h - (y1 - y0)) <= 6  # within a proxy pixel or so
    start = out.applied_operations[-1]["extra_info"]["cropped"]
    assert abs(start[0] - x0) <= 3 and abs(start[2] - y0) <= 3
    label_x = range(150, 170) if laterality == "LEFT" else range(10, 30)  # the scanner label, away from the wall
    assert not set(label_x) & set(range(start[0], start[0] + w))
    back = crop.inverse(out)
    assert back.applied_operations == [] and tuple(back.shape) == (1, 180, 300)


def test_margin_and_dictionary_twin_with_label(phantom):
    ph = phantom(rows=300, cols=180, border=0)
    item = {"image": ph.chw, "label": ph.mask_chw()}
    t = Compose([CropBreastd(["image", "label"], source_key="image", margin=5)])
    out = t(item)
    assert out["image"].shape == out["label"].shape
    assert int(out["label"].sum()) == int(item["label"].sum())  # the lesion is inside the breast box
    start, end = out["breast_start"], out["breast_end"]
    assert start[0] == 0 and abs(start[1] - max(0, _breast_box(ph)[1][0] - 5)) <= 3
    assert (end - start).tolist() == list(out["image"].shape[1:])
    back = t.inverse(out)
    assert back["label"].applied_operations == [] and tuple(back["label"].shape) == (1, 180, 300)
    np.testing.assert_array_equal(back["label"].numpy(), item["label"])


def test_film_border_is_trimmed_first(phantom):
    ph = phantom(rows=300, cols=180, border=6)
    out = Compose([TrimBorderd("image", 0.03), CropBreastd("image")])({"image": ph.chw})
    assert out["image"].shape[1] < 170  # without trimming the bright edge would join the breast


def test_constant_image_is_kept_whole():
    out = CropBreast()(np.zeros((1, 40, 30), np.uint16))
    assert tuple(out.shape) == (1, 40, 30) and len(out.applied_operations) == 1


def test_bad_input_names_key_and_shape(phantom):
    with pytest.raises(ValueError, match=r"CropBreastd: key 'image': CropBreast expects .* \(3, 20, 20\)"):
        CropBreastd(["image"])({"image": np.zeros((3, 20, 20), np.uint8)})
    with pytest.raises(ValueError, match=r"key 'label' has spatial shape \(20, 21\) but 'image' has \(20, 20\)"):
        CropBreastd(["image", "label"])({"image": np.ones((1, 20, 20)), "label": np.zeros((1, 20, 21))})
    with pytest.raises(ValueError, match="margin must be >= 0"):
        CropBreast(margin=-1)
