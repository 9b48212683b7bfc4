"""Every invertible transform of ours under ``Compose(lazy=True)``: the same result as eager, and ``inverse`` undoes
it (``applied_operations == []``). The crops whose box is computed from pixels (``CropBreast(d)``, ``CropByROI(d)``)
must see the current pixels (``requires_current_data``) and honour their own ``lazy`` flag."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.data.utils import to_affine_nd
from monai.transforms import Compose

from monai_cbis.transforms import (
    CropBreast,
    CropBreastd,
    CropByROI,
    CropByROId,
    FastResize,
    FastResized,
    FlipToLeft,
    FlipToLeftd,
    LesionCropd,
    TrimBorder,
    TrimBorderd,
)

KEYS = ["image", "label"]

# MONAI's Compose says it inverts eagerly even when it ran lazily: expected here
pytestmark = pytest.mark.filterwarnings("ignore:'lazy' is set to True but lazy execution is not supported")


def _dict_pipelines():
    """Name -> transforms after a lazy trim (the trim leaves pending operations for the next transform to see)."""
    return {
        "TrimBorderd": [TrimBorderd(KEYS, 0.05)],
        "CropBreastd": [CropBreastd(KEYS, source_key="image", margin=2)],
        "CropByROId": [CropByROId(KEYS, roi_key="label", margin=4)],
        "LesionCropd": [LesionCropd(KEYS, roi_key="label", margin=4)],
        "FlipToLeftd": [FlipToLeftd(KEYS, laterality_key="laterality")],
        "FastResized": [FastResized(KEYS, 48, inverse_mode=("bilinear", "nearest"))],
        "all": [
            CropBreastd(KEYS, source_key="image", margin=2),
            FlipToLeftd(KEYS, laterality_key="laterality"),
            TrimBorderd(KEYS, 0.02),
            CropByROId(KEYS, roi_key="label", margin=4),
        ],
    }


def _item(phantom):
    ph = phantom(rows=240, cols=150, laterality="RIGHT", border=6, label=True)
    return {"image": ph.chw, "label": ph.mask_chw(), "laterality": "RIGHT"}


@pytest.mark.parametrize("name", list(_dict_pipelines()))
def test_lazy_compose_equals_eager_and_inverts(phantom, name):
    item = _item(phantom)
    results = {}
    for lazy in (False, True):
        t = Compose([TrimBorderd(KEYS, 0.04), *_dict_pipelines()[name]], lazy=lazy)
        out = t(dict(item))
        for key in KEYS:
            assert isinstance(out[key], MetaTensor) and out[key].pending_operations == []
        results[lazy] = out
        back = t.inverse(out)
        for key in KEYS:
            assert back[key].applied_operations == [], (name, lazy, key)
            assert tuple(back[key].shape) == item[key].shape
    # lazy resampling hands FastResize float pixels where eager hands it uint16, whose block means OpenCV rounds
    atol = 0.5 if name == "FastResized" else 0.0
    for key in KEYS:
        lazy_px, eager_px = results[True][key].numpy(), results[False][key].numpy()
        np.testing.assert_allclose(lazy_px, eager_px, atol=atol, err_msg=f"{name} {key}")
        lazy_affine, eager_affine = (to_affine_nd(2, results[lazy][key].affine) for lazy in (True, False))
        np.testing.assert_allclose(lazy_affine.numpy(), eager_affine.numpy())  # lazy resampling keeps a 2-D affine
    for coord in ("breast_start", "breast_end", "roi_start", "roi_end"):
        if coord in results[False]:
            np.testing.assert_array_equal(results[True][coord], results[False][coord])


@pytest.mark.parametrize(
    "make",
    [
        lambda: CropBreast(margin=2),
        lambda: CropByROI(margin=3, on_empty="full"),
        lambda: TrimBorder(0.1),
        lambda: FlipToLeft(),  # laterality inferred from the (trimmed) pixels
        lambda: FastResize(40),
    ],
)
def test_array_transforms_under_lazy_compose(phantom, make):
    img = MetaTensor(torch.as_tensor(_item(phantom)["image"]))
    results = {}
    for lazy in (False, True):
        t = Compose([TrimBorder(0.04), make()], lazy=lazy)
        results[lazy] = t(img)
        assert results[lazy].pending_operations == []
        back = t.inverse(results[lazy])
        assert back.applied_operations == [] and tuple(back.shape) == tuple(img.shape)
    atol = 0.5 if isinstance(t.transforms[-1], FastResize) else 0.0  # float vs uint16 block means, as above
    np.testing.assert_allclose(results[True].numpy(), results[False].numpy(), atol=atol)


@pytest.mark.parametrize("cls, kwargs", [(CropBreastd, {"source_key": "image"}), (CropByROId, {"roi_key": "label"})])
def test_lazy_flag_of_the_dictionary_crops_is_honoured(phantom, cls, kwargs):
    item = _item(phantom)
    eager = cls(KEYS, **kwargs)(dict(item))
    t = cls(KEYS, lazy=True, **kwargs)
    assert t.lazy and t.cropper.lazy and t.requires_current_data and t.cropper.requires_current_data
    out = t(dict(item))
    for key in KEYS:
        assert len(out[key].pending_operations) == 1 and out[key].applied_operations == []
        assert tuple(out[key].peek_pending_shape()) == tuple(eager[key].shape[1:])
    assert cls(KEYS, **kwargs)(dict(item), lazy=True)["image"].pending_operations  # the call's flag too
