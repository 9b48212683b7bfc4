"""Preset settings: each preset's arguments live in one frozen dataclass that every part reads; Preset.params
records them (without the item keys); augmentation settings are checked once."""

from __future__ import annotations

import dataclasses

import pytest
from monai.transforms import EnsureTyped, RandFlipd

from monai_cbis.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    full_mammogram_transforms,
    get_preset,
    lesion_classification_transforms,
    roi_crop_transforms,
)
from monai_cbis.transforms.presets import (
    FullMammogramSettings,
    LesionClassificationSettings,
    PresetSettings,
    RoiCropSettings,
)
from monai_cbis.transforms.presets.base import AUGMENT_DEFAULTS, augment_settings


def test_params_are_the_settings_without_the_item_keys():
    assert full_mammogram_transforms(64).params == {
        "image_size": 64,
        "trim_fraction": 0.02,
        "crop_breast": False,
        "clip_limit": 2.0,
        "tile_grid_size": 8,
        "median_radius": 1,
        "clahe_before_resize": False,
        "out_channels": 1,
        "augment": AUGMENT_DEFAULTS,
        "augment_device": None,
        "augment_backend": "monai",
    }
    assert roi_crop_transforms(64, margin=8, image_key="img").params == {
        "image_size": 64,
        "margin": 8,
        "min_size": None,
        "square": False,
        "clip_limit": 2.0,
        "tile_grid_size": 8,
        "out_channels": 1,
        "augment": AUGMENT_DEFAULTS,
        "missing_mask": "error",
        "augment_device": None,
        "augment_backend": "monai",
    }
    params = lesion_classification_transforms(mean=[0.5, 0.5, 0.5], std=[1, 1, 1], augment={"flip_prob": 0}).params
    assert set(params) == {"image_size", "crop", "margin", "min_size", "square", "clip_limit", "tile_grid_size"} | {
        "mean",
        "std",
        "augment",
    }
    assert params["mean"] == (0.5, 0.5, 0.5) and params["std"] == (1.0, 1.0, 1.0)  # tuples of floats
    assert params["augment"] == {**AUGMENT_DEFAULTS, "flip_prob": 0}


@pytest.mark.parametrize(
    "settings, function",
    [
        (FullMammogramSettings, full_mammogram_transforms),
        (RoiCropSettings, roi_crop_transforms),
        (LesionClassificationSettings, lesion_classification_transforms),
    ],
)
def test_one_settings_object_per_preset(settings, function):
    s = settings(96)  # positional arguments in the same order as ever: image_size first
    assert isinstance(s, PresetSettings) and s.image_size == 96
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.image_size = 128  # settings cannot drift from the transforms built from them
    preset = s.preset()
    assert preset.name == s.name and preset.params == function(96).params == s.params()
    assert get_preset(s.name, image_size=96).params == preset.params
    for part in ("deterministic", "random"):
        names = [type(t).__name__ for t in getattr(preset, part).transforms]
        assert names == [type(t).__name__ for t in getattr(function(96), part).transforms]
    with pytest.raises(TypeError, match="shear"):
        settings(shear=0.1)


def test_augmentation_settings_reach_the_transforms():
    preset = roi_crop_transforms(augment={"flip_prob": 0.0})
    flips = [t for t in preset.random.transforms if isinstance(t, RandFlipd)]
    assert len(flips) == 2 and all(t.prob == 0.0 for t in flips)
    with pytest.raises(ValueError, match=r"Unsupported augmentation settings: \['shear'\], available options are"):
        augment_settings({"shear": 0.1})


def test_missing_keys_are_allowed_where_built_so():
    """``missing_mask="whole_image"`` builds its transforms with ``allow_missing_keys=True`` (none is changed after
    construction); the strict preset keeps MONAI's default."""
    for missing_mask, allowed in [("error", False), ("whole_image", True)]:
        det = roi_crop_transforms(missing_mask=missing_mask).deterministic.transforms
        ensure = next(t for t in det if isinstance(t, EnsureTyped))
        assert ensure.allow_missing_keys is allowed
    with pytest.raises(ValueError, match=r"Unsupported missing_mask: 'skip', available options are \['error', 'whole"):
        RoiCropSettings(missing_mask="skip")


def test_lesion_classification_defaults():
    s = LesionClassificationSettings()
    assert (s.mean, s.std, s.square, s.crop) == (IMAGENET_MEAN, IMAGENET_STD, True, True)
