"""Named preprocessing pipelines the bundles reuse: paper A's full mammogram
(:mod:`~monai_cbis.transforms.presets.full_mammogram`), paper B's lesion crop for segmentation
(:mod:`~monai_cbis.transforms.presets.roi_crop`) and paper B's lesion classification input
(:mod:`~monai_cbis.transforms.presets.lesion_classification`) and lesion detection on full mammograms
(:mod:`~monai_cbis.transforms.presets.detection`: boxes that follow the image) and full-resolution patches with
sliding-window inference (:mod:`~monai_cbis.transforms.presets.highres`).

Each preset is a :class:`Preset` with a ``deterministic`` part (load, geometry, enhancement: computed once per
image and cacheable, see :mod:`monai_cbis.transforms.cache`) and a ``random`` part (augmentation, drawn anew each
epoch from the MONAI transforms' own ``R``), plus, for the classification preset only, a ``final`` part:
deterministic steps that must come after the augmentation (channel repeat and mean/std normalisation).
``preset.train()`` chains all three, ``preset.inference()`` is the deterministic and final parts (for the first two
presets: the deterministic part alone). Each preset's arguments are the fields of one settings dataclass
(:mod:`~monai_cbis.transforms.presets.base`), which every part reads.

In a bundle config the preset is built once, by name, and each workflow takes its part::

    "preset": {"_target_": "monai_cbis.transforms.get_preset", "name": "full_mammogram", "image_size": 224},
    "train": {"preprocessing": "$@preset.train()"},
    "validate": {"preprocessing": "$@preset.inference()"}

:func:`preset_compose` (one part in one call) is a thin wrapper over :func:`get_preset` for Python users.
"""

from __future__ import annotations

from .base import Preset, PresetSettings
from .detection import DetectionSettings, detection_transforms
from .full_mammogram import FullMammogramSettings, full_mammogram_transforms
from .highres import HighresSettings, highres_transforms
from .lesion_classification import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    LesionClassificationSettings,
    lesion_classification_transforms,
)
from .registry import PARTS, PRESETS, get_preset, preset_compose
from .roi_crop import RoiCropSettings, roi_crop_transforms

__all__ = [
    "Preset",
    "PresetSettings",
    "PRESETS",
    "PARTS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "FullMammogramSettings",
    "RoiCropSettings",
    "LesionClassificationSettings",
    "DetectionSettings",
    "HighresSettings",
    "full_mammogram_transforms",
    "roi_crop_transforms",
    "lesion_classification_transforms",
    "detection_transforms",
    "highres_transforms",
    "get_preset",
    "preset_compose",
]
