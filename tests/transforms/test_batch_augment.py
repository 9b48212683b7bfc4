"""RandBatchAugment(d): one draw per image, as RandOpenCVAugment would draw them one by one, applied to the whole
batch on its device; images that do not move are left exactly as they are."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_cbis.transforms import RandBatchAugment, RandBatchAugmentd, RandOpenCVAugment

DEVICES = ["cpu"] + (["cuda:0"] if torch.cuda.is_available() else [])
GEOMETRY = {"intensity_prob": 0.0, "rotate_prob": 0.7, "zoom_prob": 0.6, "flip_prob": 0.5, "flip_axes": (0, 1)}
OFF = {"rotate_prob": 0.0, "flip_prob": 0.0, "zoom_prob": 0.0, "intensity_prob": 0.0}


def smooth_batch(n: int = 12, rows: int = 40, cols: int = 32, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.as_tensor(np.stack([cv2.GaussianBlur(rng.random((rows, cols), np.float32), (0, 0), 3)[None]
                                     for _ in range(n)]))  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("device", DEVICES)
def test_geometry_matches_the_opencv_pass_draw_for_draw(seed, device):
    img = smooth_batch(seed=seed)
    mask = (img > img.mean()).float()
    one_by_one = RandOpenCVAugment(mode="bilinear", **GEOMETRY).set_random_state(seed)
    masks_one_by_one = RandOpenCVAugment(mode="nearest", **GEOMETRY).set_random_state(seed)
    ref, ref_mask = torch.stack([one_by_one(i) for i in img]), torch.stack([masks_one_by_one(m) for m in mask])
    batch = RandBatchAugment(mode="bilinear", **GEOMETRY).set_random_state(seed)
    out = batch(img.to(device)).cpu()
    assert any(d.angle is not None for d in batch.draws) and any(d.zoom is not None for d in batch.draws)
    out_mask = batch.apply(mask.to(device), mode="nearest", intensity=False).cpu()  # the same draws
    assert torch.allclose(out, ref, atol=1e-4)  # linear interpolation: OpenCV's fixed-point weights vs float
    assert (out_mask != ref_mask).float().mean() < 1e-3 and set(out_mask.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("device", DEVICES)
def test_images_that_do_not_move_are_untouched_and_nothing_firing_is_no_copy(device):
    img = smooth_batch(n=16).to(device)
    t = RandBatchAugment(**{**GEOMETRY, "rotate_prob": 0.5, "zoom_prob": 0.0, "flip_prob": 0.3}).set_random_state(4)
    out = t(img)
    still = [i for i, d in enumerate(t.draws) if not d.spatial]
    flipped = [i for i, d in enumerate(t.draws) if d.flips and d.angle is None]
    assert still and flipped and out.device == img.device
    assert torch.equal(out[still], img[still])  # exactly: not resampled
    for i in flipped:  # flips alone are exact array flips
        assert torch.equal(out[i], img[i].flip([1 + a for a in t.draws[i].flips]))  # (C, H, W): axis a -> 1 + a
    assert RandBatchAugment(**OFF)(img) is img


@pytest.mark.parametrize("device", DEVICES)
def test_intensity_steps_match_the_opencv_pass_and_noise_is_seeded(device):
    img = smooth_batch(n=12) * torch.linspace(0.5, 2.0, 12).view(-1, 1, 1, 1)  # each image its own range
    settings = {**OFF, "intensity_prob": 0.5, "noise_std": 0.0}  # brightness and contrast; the noise's spread is 0
    one_by_one = RandOpenCVAugment(**settings).set_random_state(7)
    ref = torch.stack([one_by_one(i) for i in img])
    t = RandBatchAugment(**settings).set_random_state(7)
    out = t(img.to(device)).cpu()
    assert {d.gamma is None for d in t.draws} == {True, False} and {d.brightness is None for d in t.draws} == {
        True,
        False,
    }  # some images fire each step, some do not
    assert torch.allclose(out, ref, atol=1e-5)  # per image: its own draw, its own min and max
    noisy = {**OFF, "intensity_prob": 1.0, "brightness": 0.0, "contrast_gamma": (1.0, 1.0), "noise_std": 0.1}
    a = RandBatchAugment(**noisy).set_random_state(3)
    first, again = a(img.to(device)), RandBatchAugment(**noisy).set_random_state(3)(img.to(device))
    assert torch.equal(first, again)  # the same seed, the same noise
    spread = (first.cpu() - img).std(dim=(1, 2, 3))
    drawn = torch.tensor([d.noise_std for d in a.draws])
    assert torch.allclose(spread, drawn, rtol=0.15, atol=2e-3)  # each image its own drawn spread


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_batches_are_resampled_in_float32(dtype):
    img = smooth_batch(n=6, rows=128, cols=96)
    ref = RandBatchAugment(**GEOMETRY).set_random_state(1)(img)
    out = RandBatchAugment(**GEOMETRY).set_random_state(1)(img.to(dtype))
    assert out.dtype == dtype and torch.isfinite(out.float()).all()
    assert torch.allclose(out.float(), ref, atol=1e-2)  # the storage's rounding only, not a shifted grid


def test_integer_batches_are_rounded_and_saturated_not_wrapped():
    img = torch.zeros(4, 1, 32, 32)
    img[:, :, 8:24, 8:24] = 255.0  # a hard edge: bicubic overshoots below 0 and above 255 beside it
    settings = {**GEOMETRY, "rotate_prob": 1.0}
    ref = RandBatchAugment(mode="bicubic", **settings).set_random_state(2)(img)
    out = RandBatchAugment(mode="bicubic", **settings).set_random_state(2)(img.to(torch.uint8))
    assert ref.min() < 0 and ref.max() > 255
    assert out.dtype == torch.uint8 and torch.equal(out, ref.round().clamp(0, 255).to(torch.uint8))


def test_dictionary_twin_moves_image_and_masks_together_with_one_draw_per_image():
    img = smooth_batch(n=8)
    mask = (img > img.mean()).to(torch.uint8)
    t = RandBatchAugmentd(["image", "label"], mode=["bilinear", "nearest"], **GEOMETRY).set_random_state(0)
    data = {"image": MetaTensor(img, meta={"note": "kept"}), "label": mask, "laterality": ["LEFT"] * 8}
    out = t(data)
    assert isinstance(out["image"], MetaTensor) and out["image"].meta["note"] == "kept"
    out["image"].meta["note"] = "changed"
    assert t.augment.draws and data["image"].meta["note"] == "kept"  # the input's metadata is not shared
    assert out["label"].dtype == torch.uint8 and out["laterality"] == ["LEFT"] * 8
    ref = RandBatchAugment(mode="nearest", **GEOMETRY).set_random_state(0)(mask.float())
    assert torch.equal(out["label"].float(), ref)  # the label followed the image's draws
    moved = [i for i, d in enumerate(t.augment.draws) if d.spatial]
    assert moved and not torch.equal(out["image"].as_tensor()[moved], img[moved])


def test_bad_input_is_a_clear_error():
    t = RandBatchAugment()
    with pytest.raises(ValueError, match=r"batch of 2D images \(B, C, H, W\)"):
        t(torch.zeros(1, 4, 4))
    with pytest.raises(ValueError, match="Unsupported mode: 'area'"):
        RandBatchAugment(mode="area")
    with pytest.raises(ValueError, match="call randomize_batch first"):
        t.apply(torch.zeros(3, 1, 4, 4))  # draws for the batch of 1 above, none yet for 3
    d = RandBatchAugmentd(["image", "label"])
    with pytest.raises(ValueError, match="batch sizes differ"):
        d({"image": torch.zeros(2, 1, 4, 4), "label": torch.zeros(3, 1, 4, 4)})
