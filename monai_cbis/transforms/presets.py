"""Named preprocessing pipelines the bundles reuse: paper A's full mammogram and paper B's lesion crop.

Each preset is a :class:`Preset` with a ``deterministic`` part (load, geometry, enhancement: computed once per
image and cacheable, see :mod:`monai_cbis.transforms.cache`) and a ``random`` part (augmentation, drawn anew each
epoch from the MONAI transforms' own ``R``). ``preset.train()`` chains both, ``preset.inference()`` is the
deterministic part alone. In a bundle config, :func:`preset_compose` returns one part as a ``Compose`` with no
expression needed::

    "preprocessing": {"_target_": "monai_cbis.transforms.preset_compose", "name": "full_mammogram",
                      "part": "deterministic", "image_size": 224}

Order of the full-mammogram pipeline and why (paper A: trim, CLAHE, resize to 224, median):

1. load (native uint16, no float copy), 2. trim the border (a view), 3. resize to the working size (area
average straight from uint16), 4. merge the masks (each resized mask is lesion where it covers half a pixel),
5. flip to the left (at 224 x 224 the copy is free), 6. CLAHE, 7. median, 8. float32.

It departs from paper A in one place: CLAHE runs after the resize, on the working-size image, not on the full
film. At full size CLAHE alone costs as much as reading the file, which would break the "within 2x of read and
resize" budget; with 8 x 8 tiles the tiles cover the same anatomy either way and the clip limit is relative to
each tile's mean histogram height, so the enhancement is of the same kind, computed on the averaged pixels.
``clahe_before_resize=True`` restores the paper's order (about +35 ms per image). Everything else keeps the
paper's order where it matters (median after the resize, as in the paper).

The ROI pipeline (paper B): load image and mask, crop the largest lesion plus a margin, resize to 512, binarise
the mask, CLAHE, float32. Augmentations listed by paper B: rotation, flips, zoom, brightness/contrast, Gaussian
noise. Full mammograms are flipped only vertically in augmentation, to keep the chest wall on the left.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from monai.transforms import (
    Compose,
    EnsureTyped,
    RandAdjustContrastd,
    RandFlipd,
    RandGaussianNoised,
    RandRotated,
    RandScaleIntensityd,
    RandZoomd,
    RepeatChanneld,
)

from .crop import CropBreastd, CropByROId, TrimBorderd
from .intensity import CLAHEd, MedianFilterd
from .io import LoadMammogramd
from .masks import MergeMasksd, NormalizeMaskd
from .spatial import FastResized, FlipToLeftd

__all__ = ["Preset", "PRESETS", "full_mammogram_transforms", "roi_crop_transforms", "get_preset", "preset_compose"]


@dataclass(frozen=True)
class Preset:
    """A named pipeline split into a cacheable deterministic part and a random augmentation part."""

    name: str
    deterministic: Compose
    random: Compose
    params: dict = field(default_factory=dict)

    def train(self) -> Compose:
        """Deterministic then random transforms, one flat ``Compose`` (what ``PersistentDataset`` splits again)."""
        return Compose(list(self.deterministic.transforms) + list(self.random.transforms))

    def inference(self) -> Compose:
        """The deterministic part only (validation, test, inference; invert predictions with it)."""
        return self.deterministic


def _augmentation(keys: list[str], image_key: str, axes: Sequence[int], modes: Sequence[str], p: dict) -> Compose:
    return Compose(
        [
            RandRotated(keys, range_x=p["rotate_range"], prob=p["rotate_prob"], mode=modes, padding_mode="zeros"),
            *[RandFlipd(keys, spatial_axis=a, prob=p["flip_prob"]) for a in axes],
            RandZoomd(keys, min_zoom=p["zoom"][0], max_zoom=p["zoom"][1], prob=p["zoom_prob"], mode=modes),
            RandScaleIntensityd(image_key, factors=p["brightness"], prob=p["intensity_prob"]),
            RandAdjustContrastd(image_key, gamma=p["contrast_gamma"], prob=p["intensity_prob"]),
            RandGaussianNoised(image_key, std=p["noise_std"], prob=p["intensity_prob"]),
        ]
    )


_AUGMENT_DEFAULTS = {
    "rotate_range": float(np.deg2rad(15.0)),
    "rotate_prob": 0.5,
    "flip_prob": 0.5,
    "zoom": (0.9, 1.1),
    "zoom_prob": 0.3,
    "brightness": 0.1,
    "contrast_gamma": (0.8, 1.25),
    "noise_std": 0.02,
    "intensity_prob": 0.3,
}


def _augment_params(overrides: dict | None) -> dict:
    params = dict(_AUGMENT_DEFAULTS)
    unknown = set(overrides or {}) - set(params)
    if unknown:
        raise ValueError(
            f"Unsupported augmentation settings: {sorted(unknown)}, available options are {sorted(params)}."
        )
    params.update(overrides or {})
    return params


def _finish(keys: list[str], image_key: str, out_channels: int) -> list:
    tail: list = [EnsureTyped(keys, dtype=torch.float32, track_meta=True)]
    if out_channels > 1:
        tail.append(RepeatChanneld(image_key, repeats=out_channels))
    return tail


def full_mammogram_transforms(
    image_size: int | Sequence[int] = 224,
    image_key: str = "image",
    label_key: str | None = "label",
    laterality_key: str | None = "laterality",
    trim_fraction: float = 0.02,
    crop_breast: bool = False,
    clip_limit: float = 2.0,
    tile_grid_size: int | Sequence[int] = 8,
    median_radius: int = 1,
    clahe_before_resize: bool = False,
    out_channels: int = 1,
    augment: dict | None = None,
) -> Preset:
    """Paper A's full-mammogram pipeline for image-level items (``image`` + list of ``label`` masks).

    Args:
        image_size: working size ``(W, H)`` or one int (224 in paper A).
        image_key, label_key, laterality_key: item keys; ``label_key=None`` for images without masks.
        trim_fraction: border removed on every side (paper A: "a small percentage").
        crop_breast: crop to the breast (Otsu) after trimming; not in the paper.
        clip_limit, tile_grid_size: CLAHE settings (OpenCV convention).
        median_radius: median window half-width (1 -> 3 x 3); 0 to skip.
        clahe_before_resize: CLAHE on the full film as in the paper (slower), see the module docstring.
        out_channels: repeat the grey channel (3 for ImageNet-pretrained encoders).
        augment: overrides of the augmentation settings (``rotate_range`` in radians, ``rotate_prob``,
            ``flip_prob``, ``zoom``, ``zoom_prob``, ``brightness``, ``contrast_gamma``, ``noise_std``,
            ``intensity_prob``).

    Example:
        >>> preset = full_mammogram_transforms(image_size=224)
        >>> item = preset.train()({"image": "full.dcm", "label": ["m1.dcm"], "laterality": "RIGHT"})  # doctest: +SKIP
        >>> item["image"].shape, item["label"].shape  # doctest: +SKIP
        (torch.Size([1, 224, 224]), torch.Size([1, 224, 224]))
    """
    keys = [image_key] + ([label_key] if label_key else [])
    modes = ["bilinear"] + (["nearest"] if label_key else [])
    clahe = CLAHEd(image_key, clip_limit=clip_limit, tile_grid_size=tile_grid_size)
    det: list = [LoadMammogramd(keys), TrimBorderd(keys, trim_fraction)]
    if crop_breast:
        det.append(CropBreastd(keys, source_key=image_key))
    if clahe_before_resize:
        det.append(clahe)
    det.append(FastResized(keys, image_size, inverse_mode=modes))
    if label_key:
        det.append(MergeMasksd(label_key))
    det.append(FlipToLeftd(keys, laterality_key=laterality_key, source_key=image_key))
    if not clahe_before_resize:
        det.append(clahe)
    if median_radius > 0:
        det.append(MedianFilterd(image_key, radius=median_radius))
    det += _finish(keys, image_key, out_channels)
    p = _augment_params(augment)
    params = {
        "image_size": image_size,
        "trim_fraction": trim_fraction,
        "crop_breast": crop_breast,
        "clip_limit": clip_limit,
        "tile_grid_size": tile_grid_size,
        "median_radius": median_radius,
        "clahe_before_resize": clahe_before_resize,
        "out_channels": out_channels,
        "augment": p,
    }
    return Preset("full_mammogram", Compose(det), _augmentation(keys, image_key, [1], modes, p), params)


def roi_crop_transforms(
    image_size: int | Sequence[int] = 512,
    image_key: str = "image",
    mask_key: str = "mask",
    margin: int | Sequence[int] = 64,
    min_size: int | Sequence[int] | None = None,
    square: bool = False,
    clip_limit: float = 2.0,
    tile_grid_size: int | Sequence[int] = 8,
    out_channels: int = 1,
    augment: dict | None = None,
) -> Preset:
    """Paper B's lesion-crop pipeline for abnormality-level items (``image`` + its ``mask``).

    Args:
        image_size: working size (512 in paper B's segmentation).
        image_key, mask_key: item keys.
        margin, min_size, square: crop settings of :class:`~monai_cbis.transforms.CropByROI` (margin in full-image
            pixels, about 3 mm at DDSM's 0.05 mm; paper B gives no number).
        clip_limit, tile_grid_size, out_channels, augment: as for :func:`full_mammogram_transforms`.

    Example:
        >>> preset = roi_crop_transforms(image_size=512, margin=64)
        >>> item = preset.inference()({"image": "full.dcm", "mask": "mask.dcm"})  # doctest: +SKIP
        >>> item["image"].shape  # doctest: +SKIP
        torch.Size([1, 512, 512])
    """
    keys = [image_key, mask_key]
    modes = ["bilinear", "nearest"]
    det = [
        LoadMammogramd(keys),
        CropByROId(keys, roi_key=mask_key, margin=margin, min_size=min_size, square=square),
        FastResized(keys, image_size, inverse_mode=modes),
        NormalizeMaskd(mask_key),
        CLAHEd(image_key, clip_limit=clip_limit, tile_grid_size=tile_grid_size),
        *_finish(keys, image_key, out_channels),
    ]
    p = _augment_params(augment)
    params = {
        "image_size": image_size,
        "margin": margin,
        "min_size": min_size,
        "square": square,
        "clip_limit": clip_limit,
        "tile_grid_size": tile_grid_size,
        "out_channels": out_channels,
        "augment": p,
    }
    return Preset("roi_crop", Compose(det), _augmentation(keys, image_key, [0, 1], modes, p), params)


PRESETS: dict[str, Callable[..., Preset]] = {
    "full_mammogram": full_mammogram_transforms,
    "roi_crop": roi_crop_transforms,
}

_PARTS = ("train", "deterministic", "random", "inference")


def get_preset(name: str, **kwargs) -> Preset:
    """Build a preset by name, e.g. ``get_preset("roi_crop", image_size=256)``."""
    if name not in PRESETS:
        raise ValueError(f"Unsupported preset: {name!r}, available options are {sorted(PRESETS)}.")
    return PRESETS[name](**kwargs)


def preset_compose(name: str, part: str = "train", **kwargs) -> Compose:
    """One part of a named preset as a ``Compose``: ``"train"`` (both parts), ``"deterministic"``/``"inference"``
    or ``"random"``; for bundle configs (``_target_``) that should hold no expressions."""
    if part not in _PARTS:
        raise ValueError(f"Unsupported part: {part!r}, available options are {list(_PARTS)}.")
    preset = get_preset(name, **kwargs)
    if part == "train":
        return preset.train()
    return preset.random if part == "random" else preset.deterministic
