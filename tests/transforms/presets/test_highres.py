"""The full-resolution patch preset (issue 14) on synthetic CBIS-DDSM files: working size, patches and their
foreground ratio, sliding-window inference mapped back onto the original film."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.inferers import SlidingWindowInferer
from monai.transforms import Invertd

from monai_cbis.transforms import (
    LoadMammogram,
    cached_dataset,
    get_preset,
    highres_transforms,
    transform_fingerprint,
)
from monai_cbis.transforms.presets.highres import HighresSettings


def _right_film(image_items):
    return next(it for it in image_items if it["laterality"] == "RIGHT")


@pytest.mark.parametrize("downsample", [1, 2])
def test_working_film_is_the_breast_divided_by_downsample(image_items, downsample):
    item = _right_film(image_items)
    out = highres_transforms(downsample=downsample).deterministic(dict(item))
    img, lab = out["image"], out["label"]
    assert isinstance(img, MetaTensor) and img.dtype == torch.float32 and lab.shape == img.shape
    ops = [op["class"] for op in img.applied_operations]
    assert ops == ["TrimBorder", "CropBreast", "FastResize", "FlipToLeft"]
    cropped = img.applied_operations[2]["orig_size"]  # the breast crop's size, in film pixels
    assert tuple(img.shape[1:]) == tuple(round(s / downsample) for s in cropped)
    film = LoadMammogram()(item["image"]).shape[1:]
    assert cropped[0] < film[0] or cropped[1] < film[1]  # the background beyond the breast is gone
    assert set(torch.unique(lab).tolist()) == {0.0, 1.0}
    index = out["label_index"]  # which mask each lesion pixel came from: 1..n, moved with the label
    assert index.shape == lab.shape and torch.equal(index > 0, lab > 0)
    assert set(torch.unique(index).tolist()) <= set(range(len(item["label"]) + 1))
    profile = img[0].mean(dim=1)
    half = img.shape[1] // 2
    assert profile[:half].sum() > profile[half:].sum()  # chest wall on the left


def test_patches_hold_foreground_at_the_stated_ratio(image_items):
    """All positive: every patch holds lesion; all negative: every patch is centred on the breast, and the share of
    lesion-holding patches falls. Checked on the cached part, as training sees it."""
    item = _right_film(image_items)
    counts = {}
    for pos, neg in ((1.0, 0.0), (1.0, 1.0), (0.0, 1.0)):
        preset = highres_transforms(downsample=1, patch_size=(64, 64), num_samples=16, pos=pos, neg=neg)
        preset.random.set_random_state(0)
        cached = preset.deterministic(dict(item))
        patches = preset.random(cached)
        assert len(patches) == 16 and all(tuple(p["image"].shape) == (1, 64, 64) for p in patches)
        assert all(tuple(p["label"].shape) == (1, 64, 64) for p in patches)
        assert all(torch.equal(p["label_index"] > 0, p["label"] > 0) for p in patches)  # cut and moved together
        counts[pos, neg] = sum(float(p["label"].sum()) > 0 for p in patches)
    assert counts[1.0, 0.0] == 16
    assert counts[0.0, 1.0] < counts[1.0, 1.0] <= 16


def test_small_film_is_padded_to_a_patch(image_items):
    preset = highres_transforms(downsample=8, patch_size=(128, 128), num_samples=2)
    patches = preset.train()(dict(_right_film(image_items)))
    assert [tuple(p["image"].shape) for p in patches] == [(1, 128, 128)] * 2


def test_sliding_window_prediction_returns_to_the_original_film(image_items, mask_union):
    """A perfect 'network' (the label itself) run by sliding windows over the whole working film, inverted through
    the inference part, lands on the lesion on the original DICOM grid."""
    item = _right_film(image_items)
    preset = get_preset("highres", downsample=2, patch_size=(64, 64))
    out = preset.inference()(dict(item))
    label = out["label"]
    inferer = SlidingWindowInferer(roi_size=(64, 64), sw_batch_size=4, overlap=0.25, mode="gaussian")
    assert min(label.shape[1:]) > 64  # several windows
    with torch.no_grad():
        window_truth = inferer(label.as_tensor()[None], lambda x: x)[0]
    assert tuple(window_truth.shape) == tuple(label.shape)  # the whole film, not a patch
    assert torch.allclose(window_truth, label.as_tensor(), atol=1e-5)  # blending windows of the truth is the truth
    out["pred"] = MetaTensor(window_truth, meta=label.meta, applied_operations=label.applied_operations)
    back = Invertd("pred", transform=preset.inference(), orig_keys="label", nearest_interp=True)(out)["pred"]
    truth = mask_union(item["label"])
    assert back.applied_operations == [] and tuple(back.shape[1:]) == truth.shape
    p = back[0].numpy() > 0.5
    assert (p & truth).sum() / (p | truth).sum() > 0.8


def test_inference_without_masks_and_errors(image_items):
    item = {k: v for k, v in _right_film(image_items).items() if k != "label"}
    preset = highres_transforms(downsample=2, patch_size=(64, 64), num_samples=3, label_key=None)
    assert "label" not in preset.inference()(dict(item))
    assert [tuple(p["image"].shape) for p in preset.train()(dict(item))] == [(1, 64, 64)] * 3
    for bad, match in (
        ({"downsample": 0}, "downsample must be an int of at least 1"),
        ({"patch_size": (64,)}, "patch_size must be two positive sides"),
        ({"num_samples": 0}, "num_samples must be at least 1"),
        ({"pos": 0.0, "neg": 0.0}, "pos and neg must be non-negative"),
    ):
        with pytest.raises(ValueError, match=match):
            HighresSettings(**bad)
    assert np.isclose(highres_transforms().params["pos"], 1.0)


def test_target_spacing_sizes_each_film_from_its_own_pixel_size(tagged_items):
    """Films tagged 0.375 mm resized to 0.75 mm: half the breast crop's pixels, the affine at 0.75 mm; downsample is
    not used then (precedence), so any factor gives the same film."""
    item = _right_film(tagged_items)
    film = LoadMammogram()(item["image"])
    assert film.meta["spacing_source"] == "PixelSpacing" and np.allclose(film.meta["spacing"], 0.375)
    out = highres_transforms(target_spacing_mm=0.75, downsample=3).deterministic(dict(item))
    img = out["image"]
    assert [op["class"] for op in img.applied_operations] == [
        "TrimBorder",
        "CropBreast",
        "ResizeToSpacing",
        "FlipToLeft",
    ]
    cropped = img.applied_operations[2]["orig_size"]
    assert tuple(img.shape[1:]) == tuple(round(s * 0.375 / 0.75) for s in cropped)
    assert out["label"].shape == img.shape and out["label_index"].shape == img.shape
    assert np.allclose(np.abs(img.affine.diagonal()[:2].numpy()), 0.75, rtol=0.01)
    assert torch.equal(out["image"], highres_transforms(target_spacing_mm=0.75).deterministic(dict(item))["image"])


def test_target_spacing_prediction_returns_to_the_original_film(tagged_items, mask_union):
    """The merged label at the working grid, taken as the prediction and inverted through the inference part
    (Invertd), lands on the union of the film's own mask files."""
    item = _right_film(tagged_items)
    preset = get_preset("highres", target_spacing_mm=0.75, patch_size=(64, 64))
    out = preset.inference()(dict(item))
    label = out["label"]
    out["pred"] = MetaTensor(label.as_tensor().clone(), meta=label.meta, applied_operations=label.applied_operations)
    back = Invertd("pred", transform=preset.inference(), orig_keys="label", nearest_interp=True)(out)["pred"]
    truth = mask_union(item["label"])
    assert back.applied_operations == [] and tuple(back.shape[1:]) == truth.shape
    p = back[0].numpy() > 0.5
    assert truth.sum() > 0 and (p & truth).sum() / (p | truth).sum() > 0.8


def test_untagged_film_is_an_error_or_a_logged_fallback(image_items, caplog):
    """The default synthetic films carry no PixelSpacing: an error naming the file and the way out, unless
    fallback_spacing_mm gives the size to assume (then logged with the file's name)."""
    item = _right_film(image_items)
    with pytest.raises(RuntimeError) as err:  # MONAI's Compose: "applying transform ..." from the ValueError
        highres_transforms(target_spacing_mm=0.75).deterministic(dict(item))
    cause = err.value.__cause__
    assert isinstance(cause, ValueError) and item["image"] in str(cause) and "fallback_spacing_mm" in str(cause)
    with caplog.at_level(logging.WARNING, logger="monai_cbis.transforms.pixel_spacing"):
        out = highres_transforms(target_spacing_mm=0.75, fallback_spacing_mm=0.375).deterministic(dict(item))
    assert any(item["image"] in r.getMessage() and "0.375 mm" in r.getMessage() for r in caplog.records)
    cropped = out["image"].applied_operations[2]["orig_size"]
    assert tuple(out["image"].shape[1:]) == tuple(round(s / 2) for s in cropped)


def test_two_settings_never_share_a_cached_film(tagged_items, tmp_path):
    item = _right_film(tagged_items)
    shapes = {}
    for name, kwargs in (("spacing 0.75", {"target_spacing_mm": 0.75}), ("spacing 1.5", {"target_spacing_mm": 1.5}),
                         ("downsample 3", {"downsample": 3})):  # fmt: skip
        preset = highres_transforms(patch_size=(32, 32), num_samples=1, **kwargs)
        ds = cached_dataset([dict(item)], preset.inference(), tmp_path)  # one cache folder for all settings
        shapes[name] = tuple(ds[0]["image"].shape)
    assert len(set(shapes.values())) == 3, shapes
    assert len(list(tmp_path.glob("*.pt"))) == 3
    fb = highres_transforms(target_spacing_mm=0.75, fallback_spacing_mm=0.05).deterministic
    assert transform_fingerprint(fb) != transform_fingerprint(highres_transforms(target_spacing_mm=0.75).deterministic)


@pytest.mark.parametrize(
    ("bad", "match"),
    [({"target_spacing_mm": 0}, "target_spacing_mm must be a positive pixel size"),
     ({"target_spacing_mm": 0.2, "fallback_spacing_mm": -1}, "fallback_spacing_mm must be a positive pixel size"),
     ({"fallback_spacing_mm": 0.05}, "fallback_spacing_mm=0.05 only applies with target_spacing_mm")],
)  # fmt: skip
def test_spacing_settings_are_checked_at_once(bad, match):
    with pytest.raises(ValueError, match=match):
        HighresSettings(**bad)
