"""The ROI-crop preset (paper B's segmentation input) on synthetic CBIS-DDSM files: crop, inverse, films without a
mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_cbis.data import read_header
from monai_cbis.transforms import roi_crop_transforms


def test_roi_crop_outputs_and_inverse(collection, mask_union):
    preset = roi_crop_transforms(image_size=128, margin=16)
    rows = [r for r in collection.rows if not r.mask_wrong_size][:4]
    for r in rows:
        item = {"image": r.full_image, "mask": r.mask}
        out = preset.deterministic(dict(item))
        assert tuple(out["image"].shape) == tuple(out["mask"].shape) == (1, 128, 128)
        assert set(torch.unique(out["mask"]).tolist()) == {0.0, 1.0}
        assert 0.0 <= float(out["image"].min()) and float(out["image"].max()) <= 1.0
        truth = mask_union([r.mask])
        xs, ys = np.nonzero(truth)  # one lesion per synthetic mask: its box plus the margin, clipped
        assert out["roi_start"].tolist() == [max(0, xs.min() - 16), max(0, ys.min() - 16)]
        assert out["roi_end"].tolist() == [min(truth.shape[0], xs.max() + 17), min(truth.shape[1], ys.max() + 17)]
        back = preset.deterministic.inverse(out)
        assert back["mask"].applied_operations == [] and tuple(back["mask"].shape[1:]) == truth.shape
        assert ((back["mask"][0].numpy() > 0.5) & truth).sum() > 0.5 * truth.sum()


def test_roi_crop_square_option(collection, mask_union):
    """The lesion box plus margin, its shorter side grown to the longer one: same lesion, undistorted."""
    for r in (r for r in collection.rows if not r.mask_wrong_size):
        item = {"image": r.full_image, "mask": r.mask}
        plain = roi_crop_transforms(64, margin=4).deterministic(dict(item))
        if len(set((plain["roi_end"] - plain["roi_start"]).tolist())) == 2:
            break  # a lesion whose box is not square already
    out = roi_crop_transforms(64, margin=4, square=True).deterministic(dict(item))
    start, end = np.asarray(out["roi_start"]), np.asarray(out["roi_end"])
    p_start, p_end = np.asarray(plain["roi_start"]), np.asarray(plain["roi_end"])
    size, p_size = end - start, p_end - p_start
    assert p_size[0] != p_size[1] and size[0] == size[1] == p_size.max()  # the shorter side grown, not shrunk
    assert np.all(start <= p_start) and np.all(end >= p_end)  # the whole lesion box is still inside
    assert np.all(start >= 0) and np.all(end <= mask_union([r.mask]).shape)  # within the film
    assert not torch.equal(out["image"], plain["image"])


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
