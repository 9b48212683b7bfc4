"""Paper B's lesion-crop pipeline for the segmentation networks, on abnormality-level items (``image`` + its
``mask``).

Load image and mask, crop the largest lesion plus a margin, resize to 512, binarise the mask, CLAHE, float32.
Augmentations listed by paper B: rotation, flips (both axes: a crop has no chest wall to keep on the left), zoom,
brightness/contrast, Gaussian noise. At inference a film may come without an ROI (e.g. from MONAI Label): with
``missing_mask="whole_image"`` the whole film is resized and segmented, and ``inverse`` still maps the prediction
back onto it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ..crop import CropByROId
from ..intensity import CLAHEd
from ..io import LoadMammogramd, LoadMammogramIfPresentd
from ..lesion_crop import LesionCropd
from ..masks import NormalizeMaskd
from ..spatial import FastResized
from .base import Preset, PresetSettings, augmentation, float32_output

__all__ = ["MISSING_MASK", "RoiCropSettings", "roi_crop_transforms"]

#: What an item without ``mask_key`` gets: an error (training, evaluation) or the whole image (inference).
MISSING_MASK = ("error", "whole_image")


@dataclass(frozen=True)
class RoiCropSettings(PresetSettings):
    """The settings of :func:`roi_crop_transforms`.

    Args:
        image_size: working size (512 in paper B's segmentation).
        image_key, mask_key: item keys.
        margin, min_size, square: crop settings of :class:`~monai_cbis.transforms.CropByROI` (margin in full-image
            pixels, about 3 mm at DDSM's 0.05 mm; paper B gives no number).
        clip_limit, tile_grid_size, out_channels, augment, augment_device, augment_backend: as for
            :class:`~monai_cbis.transforms.presets.full_mammogram.FullMammogramSettings`.
        missing_mask: an item without ``mask_key``: ``"error"`` (training, evaluation) or ``"whole_image"``
            (inference on films without an ROI, e.g. from MONAI Label: the whole film is resized and segmented).

    Raises:
        ValueError: an unknown ``missing_mask``, ``augment_backend`` or augmentation setting, listing the allowed
            ones; ``augment_backend="opencv"`` with ``augment_device``.
    """

    image_size: int | Sequence[int] = 512
    image_key: str = "image"
    mask_key: str = "mask"
    margin: int | Sequence[int] = 64
    min_size: int | Sequence[int] | None = None
    square: bool = False
    clip_limit: float = 2.0
    tile_grid_size: int | Sequence[int] = 8
    out_channels: int = 1
    augment: dict | None = None
    missing_mask: str = "error"
    augment_device: str | None = None
    augment_backend: str = "monai"

    name: ClassVar[str] = "roi_crop"

    def __post_init__(self) -> None:
        if self.missing_mask not in MISSING_MASK:
            raise ValueError(
                f"Unsupported missing_mask: {self.missing_mask!r}, available options are {list(MISSING_MASK)}."
            )
        super().__post_init__()

    @property
    def keys(self) -> list[str]:
        return [self.image_key, self.mask_key]

    def deterministic_transforms(self) -> list:
        keys, image_key, mask_key = self.keys, self.image_key, self.mask_key
        crop_args = {"margin": self.margin, "min_size": self.min_size, "square": self.square}
        optional = self.missing_mask == "whole_image"  # the mask key may be missing
        if not optional:
            det: list = [LoadMammogramd(keys), CropByROId(keys, roi_key=mask_key, **crop_args)]
        else:
            det = [
                LoadMammogramd(image_key),
                LoadMammogramIfPresentd(mask_key),
                LesionCropd(
                    keys, roi_key=mask_key, box_key=None, image_key=image_key, allow_missing_keys=True, **crop_args
                ),
            ]
        return det + [
            FastResized(keys, self.image_size, inverse_mode=["bilinear", "nearest"], allow_missing_keys=optional),
            NormalizeMaskd(mask_key, allow_missing_keys=optional),
            CLAHEd(image_key, clip_limit=self.clip_limit, tile_grid_size=self.tile_grid_size),
            *float32_output(keys, image_key, self.out_channels, allow_missing_keys=optional),
        ]

    def random_transforms(self) -> list:
        modes = ["bilinear", "nearest"]
        return augmentation(self.keys, self.image_key, [0, 1], modes, self.augment, self.augment_kind)


def roi_crop_transforms(*args, **kwargs) -> Preset:
    """Paper B's lesion-crop pipeline: ``get_preset("roi_crop", ...)``.

    Args:
        args, kwargs: the fields of :class:`RoiCropSettings`, in its order (``image_size`` first).

    Example:
        >>> preset = roi_crop_transforms(image_size=512, margin=64, missing_mask="whole_image")
        >>> [type(t).__name__ for t in preset.deterministic.transforms][:3]
        ['LoadMammogramd', 'LoadMammogramIfPresentd', 'LesionCropd']
        >>> item = preset.inference()({"image": "full.dcm", "mask": "mask.dcm"})  # doctest: +SKIP
        >>> item["image"].shape  # doctest: +SKIP
        torch.Size([1, 512, 512])
    """
    return RoiCropSettings(*args, **kwargs).preset()
