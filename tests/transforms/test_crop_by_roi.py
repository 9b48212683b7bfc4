"""CropByROI(d): paper B's crop around the largest lesion; edges, several lesions, both sides; inverse; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from monai.data import MetaTensor
from monai.transforms import Compose

from monai_cbis.transforms import CropByROI, CropByROId


def _mask(shape=(1, 100, 80), boxes=((40, 50, 30, 36),)):
    """A (C, W, H) 0/255 mask with filled boxes (x0, x1, y0, y1)."""
    m = np.zeros(shape, np.uint8)
    for x0, x1, y0, y1 in boxes:
        m[0, x0:x1, y0:y1] = 255
    return m


def test_box_plus_margin(as_type, np_of):
    img = np.arange(100 * 80, dtype=np.float32).reshape(1, 100, 80)
    crop = CropByROI(margin=5)
    out = crop(as_type(img), roi=as_type(_mask()))
    assert isinstance(out, MetaTensor) and tuple(out.shape) == (1, 20, 16)
    np.testing.assert_array_equal(np_of(out), img[:, 35:55, 25:41])
    back = crop.inverse(out)
    assert back.applied_operations == [] and tuple(back.shape) == (1, 100, 80)
    np.testing.assert_array_equal(np_of(back)[:, 35:55, 25:41], img[:, 35:55, 25:41])


def test_largest_of_several_lesions_and_per_axis_margin():
    mask = _mask(boxes=((5, 10, 5, 10), (60, 90, 40, 70), (20, 22, 60, 62)))
    start, end = CropByROI(margin=(2, 4)).compute_box(mask)
    assert start.tolist() == [58, 36] and end.tolist() == [92, 74]


def test_lesion_at_the_edge_is_clipped_not_shifted():
    mask = _mask(boxes=((0, 10, 70, 80),))
    start, end = CropByROI(margin=8).compute_box(mask)
    assert start.tolist() == [0, 62] and end.tolist() == [18, 80]


def test_square_and_min_size_shift_inside_the_image():
    mask = _mask(boxes=((0, 10, 30, 34),))
    start, end = CropByROI(margin=0, square=True).compute_box(mask)
    assert (end - start).tolist() == [10, 10] and start[0] == 0
    start, end = CropByROI(min_size=32).compute_box(mask)
    assert (end - start).tolist() == [32, 32] and start[0] == 0  # pushed back inside at the left edge
    start, end = CropByROI(min_size=500).compute_box(mask)
    assert start.tolist() == [0, 0] and end.tolist() == [100, 80]  # never bigger than the image


def test_threshold_multi_channel_roi_and_jpeg_noise():
    noisy = _mask(boxes=((40, 50, 30, 36),))
    noisy[0, 0:5, 0:5] = 40  # JPEG ringing far from the lesion: below half range
    start, end = CropByROI().compute_box(noisy)
    assert start.tolist() == [40, 30] and end.tolist() == [50, 36]
    two = np.concatenate([_mask(boxes=((0, 4, 0, 4),)), _mask(boxes=((50, 70, 50, 60),))])
    start, end = CropByROI().compute_box(two)  # channels are united; the largest lesion wins
    assert start.tolist() == [50, 50] and end.tolist() == [70, 60]


@pytest.mark.parametrize("laterality", ["LEFT", "RIGHT"])
def test_dictionary_on_phantom_image_and_mask(phantom, laterality):
    ph = phantom(rows=200, cols=120, laterality=laterality, lesions=((80, 110, 30, 55), (150, 156, 10, 14)))
    mask = ph.mask_chw(0) | ph.mask_chw(1)
    item = {"image": ph.chw, "mask": mask}
    t = Compose([CropByROId(["image", "mask"], roi_key="mask", margin=3)])
    out = t(item)
    r0, r1, c0, c1 = ph.boxes[0]  # the larger lesion, in (rows, columns)
    assert out["roi_start"].tolist() == [c0 - 3, r0 - 3] and out["roi_end"].tolist() == [c1 + 3, r1 + 3]
    assert out["image"].shape == out["mask"].shape
    assert int((out["mask"] > 0).sum()) == int((ph.masks[0] > 0).sum())
    back = t.inverse(out)
    for key in ("image", "mask"):
        assert back[key].applied_operations == [] and tuple(back[key].shape) == (1, 120, 200)


def test_empty_mask_raises_or_keeps_the_whole_image():
    empty = {"image": np.ones((1, 30, 20), np.float32), "mask": np.zeros((1, 30, 20), np.uint8)}
    with pytest.raises(ValueError, match=r"CropByROId: key 'mask': the ROI mask has no lesion \(shape \(1, 30, 20\)"):
        CropByROId(["image", "mask"], roi_key="mask")(empty)
    t = CropByROId(["image", "mask"], roi_key="mask", on_empty="full")
    out = t(empty)
    assert tuple(out["image"].shape) == (1, 30, 20) and len(out["image"].applied_operations) == 1
    assert t.inverse(out)["image"].applied_operations == []


def test_size_mismatch_and_missing_roi_name_the_keys():
    bad = {"image": np.ones((1, 30, 20)), "mask": _mask((1, 30, 21), ((1, 5, 1, 5),))}
    with pytest.raises(ValueError, match=r"key 'image' has spatial shape \(30, 20\) but 'mask' has \(30, 21\)"):
        CropByROId(["image", "mask"], roi_key="mask")(bad)
    with pytest.raises(KeyError, match="ROI key 'roi' is not in the data"):
        CropByROId(["image"], roi_key="roi")({"image": np.ones((1, 4, 4))})
    with pytest.raises(ValueError, match="does not match image shape"):
        CropByROI()(np.ones((1, 30, 20)), roi=np.ones((1, 30, 21)))
    with pytest.raises(ValueError, match=r"Unsupported on_empty: 'skip'"):
        CropByROI(on_empty="skip")
