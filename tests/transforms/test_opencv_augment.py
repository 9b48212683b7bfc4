"""RandOpenCVAugment(d): paper B's augmentation in one OpenCV pass, reproducible, image and masks moved together."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Flip, Rotate

from monai_cbis.transforms import RandOpenCVAugment, RandOpenCVAugmentd
from monai_cbis.transforms.presets.base import AUGMENT_DEFAULTS

OFF = {"rotate_prob": 0.0, "flip_prob": 0.0, "zoom_prob": 0.0, "intensity_prob": 0.0}
KEYS = ["image", "label"]


def _item(size=(24, 24), dtype=torch.float32):
    image = MetaTensor(torch.rand(1, *size, generator=torch.Generator().manual_seed(0)).to(dtype),
                       meta={"filename_or_obj": "a.dcm"})  # fmt: skip
    label = torch.zeros(1, *size, dtype=dtype)
    label[0, 3:8, 10:14] = 1  # a known rectangle off the centre
    return {"image": image, "label": MetaTensor(label, meta={"filename_or_obj": "m.dcm"}), "laterality": "LEFT"}


def _square_item(n=21):
    label = torch.zeros(1, n, n)
    label[0, 2:6, 8:13] = 1
    return {"image": MetaTensor(label.clone()), "label": MetaTensor(label)}


def test_defaults_are_paper_b_settings():
    t = RandOpenCVAugment()
    r = AUGMENT_DEFAULTS["rotate_range"]
    assert t.rotate_range == (-r, r) and t.zoom == AUGMENT_DEFAULTS["zoom"]
    assert t.contrast_gamma == AUGMENT_DEFAULTS["contrast_gamma"] and t.noise_std == AUGMENT_DEFAULTS["noise_std"]
    assert (t.rotate_prob, t.flip_prob, t.zoom_prob, t.intensity_prob, t.brightness) == tuple(
        AUGMENT_DEFAULTS[k] for k in ("rotate_prob", "flip_prob", "zoom_prob", "intensity_prob", "brightness")
    )


def test_seeded_runs_are_reproducible_and_draws_vary():
    data = _item()
    a = RandOpenCVAugmentd(KEYS, mode=["bilinear", "nearest"]).set_random_state(7)
    b = RandOpenCVAugmentd(KEYS, mode=["bilinear", "nearest"]).set_random_state(7)
    outs_a = [a(data) for _ in range(6)]
    outs_b = [b(data) for _ in range(6)]
    for x, y in zip(outs_a, outs_b, strict=True):
        assert torch.equal(x["image"], y["image"]) and torch.equal(x["label"], y["label"])
    assert len({float(o["image"].sum()) for o in outs_a}) > 1  # draws differ from call to call


def test_forced_rotation_moves_image_and_mask_as_monai_rotate():
    data = _square_item()
    t = RandOpenCVAugmentd(KEYS, mode="nearest", **{**OFF, "rotate_prob": 1.0, "rotate_range": (np.pi / 2,) * 2})
    out = t(data)
    expected = Rotate(np.pi / 2, mode="nearest", padding_mode="zeros")(data["label"])
    assert torch.equal(out["label"].as_tensor(), expected.as_tensor())
    assert torch.equal(out["image"].as_tensor(), expected.as_tensor())  # both keys moved by the same draw
    assert out["label"].sum() == data["label"].sum()


@pytest.mark.parametrize("axis", [0, 1])
def test_forced_flip_moves_the_square_as_monai_flip(axis):
    data = _item()
    t = RandOpenCVAugmentd(KEYS, mode=["bilinear", "nearest"], flip_axes=[axis], **{**OFF, "flip_prob": 1.0})
    out = t(data)
    for key in KEYS:
        assert torch.equal(out[key].as_tensor(), Flip(spatial_axis=axis)(data[key]).as_tensor())


def test_zoom_grows_the_mask_about_the_centre_and_keeps_it_binary():
    data = _square_item(41)
    data["label"][0, 18:23, 18:23] = 1  # a centred 5 x 5 square as well
    t = RandOpenCVAugmentd(["label"], mode="nearest", **{**OFF, "zoom_prob": 1.0, "zoom": (2.0, 2.0)})
    out = t(data)["label"][0]
    assert set(out.unique().tolist()) == {0.0, 1.0}
    assert out[20, 20] == 1 and out[15, 15] == 1 and out[25, 25] == 1  # the centred square doubled in place
    assert out[10, 10] == 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8, torch.int64])
def test_everything_firing_keeps_type_shape_dtype_metadata_and_a_binary_mask(dtype):
    data = _item(size=(20, 30), dtype=dtype)
    t = RandOpenCVAugmentd(KEYS, mode=["bilinear", "nearest"], rotate_prob=1.0, flip_prob=1.0, zoom_prob=1.0,
                           intensity_prob=1.0).set_random_state(3)  # fmt: skip
    for _ in range(4):
        out = t(data)
        for key in KEYS:
            assert isinstance(out[key], MetaTensor) and out[key].dtype == dtype
            assert out[key].shape == data[key].shape
            assert out[key].meta["filename_or_obj"] == data[key].meta["filename_or_obj"]
        assert set(out["label"].unique().tolist()) <= {0, 1}
        assert out["laterality"] == "LEFT"
    assert data["label"].sum() == 20  # the input was not written to


def test_probability_zero_is_the_identity_and_one_always_changes():
    data = _item()
    out = RandOpenCVAugmentd(KEYS, **OFF).set_random_state(0)(data)
    assert out["image"] is data["image"] and out["label"] is data["label"]
    t = RandOpenCVAugmentd(KEYS, **{**OFF, "intensity_prob": 1.0}).set_random_state(0)
    for _ in range(3):
        out = t(data)
        assert not torch.equal(out["image"], data["image"])  # brightness, contrast and noise all fire
        assert out["label"] is data["label"]  # intensity steps touch the image keys only


def test_array_twin_and_plain_inputs():
    arr = np.zeros((1, 5, 5), np.float32)
    arr[0, 0, 2] = 1
    t = RandOpenCVAugment(**{**OFF, "rotate_prob": 1.0, "rotate_range": (np.pi / 2,) * 2}, mode="nearest")
    out = t(arr)
    assert isinstance(out, np.ndarray) and np.argwhere(out[0]).tolist() == [[2, 4]]
    assert isinstance(t(MetaTensor(torch.from_numpy(arr))), MetaTensor)


def test_missing_keys_and_bad_settings():
    data = {"image": MetaTensor(torch.rand(1, 8, 8))}
    out = RandOpenCVAugmentd(KEYS, allow_missing_keys=True, **{**OFF, "flip_prob": 1.0})(data)
    assert "label" not in out and out["image"].shape == (1, 8, 8)
    with pytest.raises(KeyError):
        RandOpenCVAugmentd(KEYS)(data)
    with pytest.raises(ValueError, match="Unsupported mode: 'linear'.*bilinear"):
        RandOpenCVAugmentd(KEYS, mode="linear")
    with pytest.raises(ValueError, match="flip_axes"):
        RandOpenCVAugment(flip_axes=[2])
    with pytest.raises(ValueError, match=r"\(C, W, H\)"):
        RandOpenCVAugment()(np.zeros((4, 4), np.float32))
