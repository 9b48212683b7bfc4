"""The preset registry: PRESETS, get_preset and preset_compose (names, parts, errors)."""

from __future__ import annotations

import pytest
from monai.transforms import Compose, NormalizeIntensityd

from monai_cbis.transforms import (
    IMAGENET_MEAN,
    PRESETS,
    LoadMammogramd,
    full_mammogram_transforms,
    get_preset,
    lesion_classification_transforms,
    preset_compose,
)


def test_registry_and_parts():
    assert set(PRESETS) == {"full_mammogram", "roi_crop", "lesion_classification", "detection", "highres"}
    det = preset_compose("full_mammogram", part="deterministic", image_size=32)
    assert isinstance(det, Compose) and isinstance(det.transforms[0], LoadMammogramd)
    rnd = preset_compose("roi_crop", part="random")
    assert all(hasattr(t, "R") for t in rnd.transforms)  # augmentation draws from each transform's own R
    train = get_preset("roi_crop").train()
    assert len(train.transforms) == len(get_preset("roi_crop").deterministic.transforms) + len(rnd.transforms)
    with pytest.raises(
        ValueError,
        match=r"Unsupported preset: 'x', available options are \['detection', 'full_mammogram', 'highres', 'lesion_",
    ):
        get_preset("x")
    with pytest.raises(ValueError, match=r"Unsupported part: 'eval'"):
        preset_compose("roi_crop", part="eval")
    with pytest.raises(ValueError, match=r"Unsupported augmentation settings: \['shear'\]"):
        full_mammogram_transforms(augment={"shear": 0.1})


def test_registry_and_parts_of_lesion_classification():
    assert PRESETS["lesion_classification"] is lesion_classification_transforms
    preset = get_preset("lesion_classification", image_size=128, crop=False)
    assert preset.name == "lesion_classification" and preset.params["image_size"] == 128
    assert preset.params["mean"] == IMAGENET_MEAN and preset.params["crop"] is False
    inference = preset_compose("lesion_classification", part="inference")
    deterministic = preset_compose("lesion_classification", part="deterministic")
    assert isinstance(inference.transforms[-1], NormalizeIntensityd)
    assert not any(isinstance(t, NormalizeIntensityd) for t in deterministic.transforms)
    train = preset_compose("lesion_classification", part="train", image_size=128, crop=False)
    assert len(train.transforms) == len(preset.train().transforms)
    roi = get_preset("roi_crop")  # presets without a final part: inference() is the deterministic part itself
    assert roi.final is None and roi.inference() is roi.deterministic
