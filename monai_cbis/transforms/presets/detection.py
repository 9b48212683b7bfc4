"""Lesion detection on full mammograms (paper B's third task): the whole breast at a working resolution, one box per
CSV abnormality.

Order and why:

1. load the film and, for training and evaluation, the stack of its lesion masks (one per CSV row);
2. one box per mask, in the film's own pixels (:class:`~monai_cbis.transforms.LesionBoxesd`): computed at full
   resolution, before any resize, so a small calcification cluster keeps its exact extent; the masks are dropped;
3. trim the border, crop to the breast (:class:`~monai_cbis.transforms.CropBreastd`), resize so that the longest
   side is ``long_side`` (aspect kept), flip to the left, CLAHE, float32;
4. the boxes follow the image (:class:`~monai_cbis.transforms.OriginalToImageBoxd`, through the image's affine);
   a lesion outside the breast crop is clipped away and counted in ``lesions_dropped``.

Augmentation moves the boxes with the image (``monai.apps.detection.transforms``): an optional random patch that
keeps boxes (``patch_size``, as the lung-nodule bundle trains), random zoom, vertical flip (the chest wall stays on
the left), then brightness, contrast and noise. No free rotation: a rotated box is no longer the lesion's box.

Inference (``label_key=None``) runs steps 1 and 3; predicted boxes go back onto the original film with
:class:`~monai_cbis.transforms.ImageToOriginalBoxd`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
from monai.apps.detection.transforms.dictionary import (
    ClipBoxToImaged,
    RandCropBoxByPosNegLabeld,
    RandFlipBoxd,
    RandZoomBoxd,
)
from monai.transforms import EnsureTyped, RandAdjustContrastd, RandGaussianNoised, RandScaleIntensityd

from ..crop import CropBreastd, TrimBorderd
from ..intensity import CLAHEd
from ..io import LoadMammogramd
from ..lesion_boxes import LesionBoxesd, OriginalToImageBoxd
from ..spatial import FastResized, FlipToLeftd
from .base import Preset, PresetSettings

__all__ = ["DetectionSettings", "detection_transforms"]


@dataclass(frozen=True)
class DetectionSettings(PresetSettings):
    """The settings of :func:`detection_transforms`, for image-level items (``image``, a list of ``label`` masks,
    ``laterality`` and the per-lesion fields).

    Args:
        long_side: the longest side of the working image (1024 or more on a GPU; the CPU demo uses less).
        image_key, label_key, laterality_key: item keys; ``label_key=None`` for films without masks (inference).
        box_key: where the boxes go (the masks' key then holds the class indices).
        class_key: what a box's class is: ``"abnormality_types"`` (lesion type: 0 mass, 1 calcification) or
            ``"pathologies"`` (0 benign incl. without callback, 1 malignant).
        trim_fraction: border removed on every side before the breast crop.
        breast_margin: pixels of the full film kept around the breast.
        clip_limit, tile_grid_size: CLAHE settings (OpenCV convention).
        patch_size: ``(W, H)`` of a random training patch that keeps boxes (MONAI's ``RandCropBoxByPosNegLabeld``,
            one positive for one negative centre), or None to train on the whole working image.
        augment: overrides of ``flip_prob`` (vertical), ``zoom``, ``zoom_prob``, ``brightness``, ``contrast_gamma``,
            ``noise_std``, ``intensity_prob`` (see :data:`~monai_cbis.transforms.presets.base.AUGMENT_DEFAULTS`;
            the rotation settings are not used).
    """

    long_side: int = 1024
    image_key: str = "image"
    label_key: str | None = "label"
    laterality_key: str | None = "laterality"
    box_key: str = "box"
    class_key: str | None = "abnormality_types"
    trim_fraction: float = 0.02
    breast_margin: int = 32
    clip_limit: float = 2.0
    tile_grid_size: int | Sequence[int] = 8
    patch_size: Sequence[int] | None = None
    augment: dict | None = None

    name: ClassVar[str] = "detection"

    def __post_init__(self) -> None:
        super().__post_init__()
        if int(self.long_side) < 32:
            raise ValueError(f"long_side must be at least 32 pixels, got {self.long_side}.")

    def deterministic_transforms(self) -> list:
        img, lab = self.image_key, self.label_key
        det: list = [LoadMammogramd([img] + ([lab] if lab else []))]
        if lab:
            det.append(LesionBoxesd(lab, box_key=self.box_key, class_key=self.class_key))
        det += [
            TrimBorderd(img, self.trim_fraction),
            CropBreastd(img, source_key=img, margin=self.breast_margin),
            FastResized(img, int(self.long_side), size_mode="longest"),
            FlipToLeftd(img, laterality_key=self.laterality_key, source_key=img),
            CLAHEd(img, clip_limit=self.clip_limit, tile_grid_size=self.tile_grid_size),
            EnsureTyped(img, dtype=torch.float32, track_meta=True),
        ]
        if lab:
            det.append(OriginalToImageBoxd(self.box_key, image_key=img, label_keys=lab))
        return det

    def random_transforms(self) -> list:
        img, box, lab, p = self.image_key, self.box_key, self.label_key, self.augment
        rand: list = []
        if self.patch_size is not None:
            rand.append(
                RandCropBoxByPosNegLabeld(
                    image_keys=img,
                    box_keys=box,
                    label_keys=lab,
                    spatial_size=list(self.patch_size),
                    whole_box=True,
                    num_samples=1,
                    pos=1,
                    neg=1,
                )
            )
        rand += [
            RandZoomBoxd(
                image_keys=img,
                box_keys=box,
                box_ref_image_keys=img,
                prob=p["zoom_prob"],
                min_zoom=p["zoom"][0],
                max_zoom=p["zoom"][1],
                padding_mode="constant",
                keep_size=True,
            ),
            ClipBoxToImaged(box_keys=box, label_keys=lab, box_ref_image_keys=img, remove_empty=True),
            RandFlipBoxd(image_keys=img, box_keys=box, box_ref_image_keys=img, prob=p["flip_prob"], spatial_axis=1),
            RandScaleIntensityd(img, factors=p["brightness"], prob=p["intensity_prob"]),
            RandAdjustContrastd(img, gamma=p["contrast_gamma"], prob=p["intensity_prob"]),
            RandGaussianNoised(img, std=p["noise_std"], prob=p["intensity_prob"]),
        ]
        return rand


def detection_transforms(*args, **kwargs) -> Preset:
    """The detection pipeline: ``get_preset("detection", ...)``.

    Args:
        args, kwargs: the fields of :class:`DetectionSettings`, in its order (``long_side`` first).

    Example:
        >>> preset = detection_transforms(long_side=256)
        >>> [type(t).__name__ for t in preset.deterministic.transforms][:3]
        ['LoadMammogramd', 'LesionBoxesd', 'TrimBorderd']
        >>> [type(t).__name__ for t in detection_transforms(256, label_key=None).deterministic.transforms][-1]
        'EnsureTyped'
        >>> item = preset.inference()({"image": "full.dcm", "label": ["m1.dcm"], "laterality": "RIGHT",
        ...                            "abnormality_types": ["mass"]})  # doctest: +SKIP
        >>> item["box"], item["label"]  # doctest: +SKIP
        (tensor([[ 81.,  40., 118.,  77.]]), tensor([0]))
    """
    return DetectionSettings(*args, **kwargs).preset()
