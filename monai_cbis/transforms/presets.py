"""Named preprocessing pipelines the bundles reuse: paper A's full mammogram, paper B's lesion crop (segmentation)
and paper B's lesion classification input.

Each preset is a :class:`Preset` with a ``deterministic`` part (load, geometry, enhancement: computed once per
image and cacheable, see :mod:`monai_cbis.transforms.cache`) and a ``random`` part (augmentation, drawn anew each
epoch from the MONAI transforms' own ``R``), plus, for the classification preset only, a ``final`` part:
deterministic steps that must come after the augmentation (channel repeat and mean/std normalisation).
``preset.train()`` chains all three, ``preset.inference()`` is the deterministic and final parts (for the first two
presets: the deterministic part alone). In a bundle config, :func:`preset_compose` returns one part as a
``Compose`` with no expression needed::

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

The classification pipeline (paper B's benign/malignant classifiers): load image (and mask), crop the largest
lesion plus a margin (or keep the whole mammogram), resize to 224, CLAHE, float32 in [0, 1]; then augmentation on
that grey image; then repeat to 3 channels and normalise with the backbone's mean/std (see
:func:`lesion_classification_transforms` for why the augmentation sits before the normalisation).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from monai.transforms import (
    Compose,
    DeleteItemsd,
    EnsureTyped,
    MapTransform,
    NormalizeIntensityd,
    RandAdjustContrastd,
    RandFlipd,
    RandGaussianNoised,
    RandRotated,
    RandScaleIntensityd,
    RandZoomd,
    RepeatChanneld,
)

from ._utils import keyed_errors, spatial_shape, to_numpy
from .crop import CropBreastd, CropByROId, TrimBorderd, _crop_keys
from .intensity import CLAHEd, MedianFilterd
from .io import LoadMammogramd
from .labels import ClassIndexd
from .masks import MergeMasksd, NormalizeMaskd
from .spatial import FastResized, FlipToLeftd

__all__ = [
    "Preset",
    "PRESETS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "full_mammogram_transforms",
    "roi_crop_transforms",
    "lesion_classification_transforms",
    "get_preset",
    "preset_compose",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preset:
    """A named pipeline split into a cacheable deterministic part, a random augmentation part and an optional final
    deterministic part that must follow the augmentation (not cached in training: it runs after the first random
    transform; cheap by design)."""

    name: str
    deterministic: Compose
    random: Compose
    params: dict = field(default_factory=dict)
    final: Compose | None = None

    def _final(self) -> list:
        return list(self.final.transforms) if self.final is not None else []

    def train(self) -> Compose:
        """Deterministic, random then final transforms, one flat ``Compose`` (what ``PersistentDataset`` splits
        again)."""
        return Compose(list(self.deterministic.transforms) + list(self.random.transforms) + self._final())

    def inference(self) -> Compose:
        """The deterministic part, then the final part if any (validation, test, inference; invert predictions with
        it). Without a final part this is ``self.deterministic`` itself."""
        if not self._final():
            return self.deterministic
        return Compose(list(self.deterministic.transforms) + self._final())


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
    missing_mask: str = "error",
) -> Preset:
    """Paper B's lesion-crop pipeline for abnormality-level items (``image`` + its ``mask``).

    Args:
        image_size: working size (512 in paper B's segmentation).
        image_key, mask_key: item keys.
        margin, min_size, square: crop settings of :class:`~monai_cbis.transforms.CropByROI` (margin in full-image
            pixels, about 3 mm at DDSM's 0.05 mm; paper B gives no number).
        clip_limit, tile_grid_size, out_channels, augment: as for :func:`full_mammogram_transforms`.
        missing_mask: an item without ``mask_key``: ``"error"`` (training, evaluation) or ``"whole_image"``
            (inference on films without an ROI, e.g. from MONAI Label: the whole film is resized and segmented).

    Example:
        >>> preset = roi_crop_transforms(image_size=512, margin=64)
        >>> item = preset.inference()({"image": "full.dcm", "mask": "mask.dcm"})  # doctest: +SKIP
        >>> item["image"].shape  # doctest: +SKIP
        torch.Size([1, 512, 512])
    """
    missing = ("error", "whole_image")
    if missing_mask not in missing:
        raise ValueError(f"Unsupported missing_mask: {missing_mask!r}, available options are {list(missing)}.")
    keys = [image_key, mask_key]
    modes = ["bilinear", "nearest"]
    crop_args = {"margin": margin, "min_size": min_size, "square": square}
    if missing_mask == "error":
        det = [LoadMammogramd(keys), CropByROId(keys, roi_key=mask_key, **crop_args)]
    else:
        det = [
            LoadMammogramd(image_key),
            _LoadIfPresentd(mask_key),
            _LesionCropd(keys, image_key, mask_key, None, **crop_args),
        ]
    tail = _finish(keys, image_key, out_channels)
    tail[0].allow_missing_keys = missing_mask != "error"
    det += [
        FastResized(keys, image_size, inverse_mode=modes, allow_missing_keys=missing_mask != "error"),
        NormalizeMaskd(mask_key, allow_missing_keys=missing_mask != "error"),
        CLAHEd(image_key, clip_limit=clip_limit, tile_grid_size=tile_grid_size),
        *tail,
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
        "missing_mask": missing_mask,
    }
    return Preset("roi_crop", Compose(det), _augmentation(keys, image_key, [0, 1], modes, p), params)


class _LoadIfPresentd(MapTransform):
    """:class:`LoadMammogramd` for keys an item may lack (the ROI mask at inference). Deliberately not a
    ``LoadImaged`` subclass: MONAI Label wraps every ``LoadImaged`` in its ``LoadImageTensord``, which indexes each
    key and so ignores ``allow_missing_keys``."""

    def __init__(self, keys) -> None:
        super().__init__(keys, allow_missing_keys=True)
        self.loader = LoadMammogramd(keys, allow_missing_keys=True)

    def __call__(self, data: Mapping[Hashable, object]) -> dict:
        return self.loader(data)


class _LesionCropd(CropByROId):
    """:class:`CropByROId` on the image alone, with fall-backs for items without a mask: the ``box_key`` box
    ``[x0, y0, x1, y1]`` (full-image pixels, x = spatial axis 0 = columns, ends exclusive, as
    :class:`~monai_cbis.transforms.MaskToBox` writes them) with the same margin / min_size / square rules, else the
    whole image. Every path records a crop, so ``inverse`` works on all items alike."""

    def __init__(self, keys, image_key: str, mask_key: str, box_key: str | None, **crop_args) -> None:
        super().__init__(keys, roi_key=mask_key, allow_missing_keys=True, **crop_args)
        self.image_key, self.box_key = image_key, box_key

    def box_crop(self, box, shape: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(start, end)`` of the crop for a box, clipped to an image of spatial ``shape``."""
        b = np.asarray(to_numpy(box) if isinstance(box, torch.Tensor) else box, dtype=np.float64).reshape(-1)
        if b.size != 4 or not np.all(np.isfinite(b)):
            raise ValueError(f"expected one box [x0, y0, x1, y1], got {box!r}.")
        lo, hi = np.floor(b[:2]).astype(np.int64), np.ceil(b[2:]).astype(np.int64)
        if np.any(hi <= lo) or np.any(hi <= 0) or np.any(lo >= shape):
            raise ValueError(
                f"box {b.tolist()} is empty or outside the image (spatial shape (W, H) = {tuple(shape.tolist())}); "
                "expected x0 < x1, y0 < y1 overlapping [0, W) x [0, H), in full-image pixels, x = column."
            )
        return self.cropper.expand_box(lo, hi, shape)

    def __call__(self, data: Mapping[Hashable, torch.Tensor], lazy: bool | None = None) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        if self.roi_key in d:
            return super().__call__(d, lazy)
        shape = np.asarray(spatial_shape(d[self.image_key]), dtype=np.int64)
        if self.box_key is not None and d.get(self.box_key) is not None:
            start, end = keyed_errors(type(self).__name__, self.box_key, self.box_crop, d[self.box_key], shape)
        else:
            start, end = np.zeros(2, dtype=np.int64), shape
        return _crop_keys(self, d, list(self.key_iterator(d)), start, end, lazy)


def _mean_std(mean: Sequence[float], std: Sequence[float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    m, s = tuple(float(v) for v in mean), tuple(float(v) for v in std)
    if not m or len(m) != len(s) or min(s) <= 0:
        raise ValueError(
            f"mean and std must have one value per output channel (same length, std > 0), got mean={m}, std={s}; "
            f"e.g. ImageNet {IMAGENET_MEAN} / {IMAGENET_STD}, or (0.5, 0.5, 0.5) for both."
        )
    return m, s


def lesion_classification_transforms(
    image_size: int | Sequence[int] = 224,
    image_key: str = "image",
    mask_key: str = "mask",
    label_key: str | None = "label",
    box_key: str | None = "box",
    crop: bool = True,
    margin: int | Sequence[int] = 64,
    min_size: int | Sequence[int] | None = None,
    square: bool = True,
    clip_limit: float = 2.0,
    tile_grid_size: int | Sequence[int] = 8,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    augment: dict | None = None,
) -> Preset:
    """Paper B's benign/malignant classifier input: the lesion crop (or the whole mammogram) as a normalised
    ``(3, 224, 224)`` float32 image and an int64 ``label``.

    Deterministic (cached): load the image (and the mask), crop the mask's largest lesion plus ``margin``
    (:class:`~monai_cbis.transforms.CropByROId`; ``roi_start`` / ``roi_end`` record the box), drop the mask and
    box keys, resize to ``image_size``, CLAHE, float32 in [0, 1]; the label becomes a 0-d int64 tensor
    (:class:`~monai_cbis.transforms.ClassIndexd`), so a batch of labels has shape ``(B,)``; items without a label
    (inference) pass. Random: rotation, horizontal and vertical flips, zoom, brightness, contrast (gamma) and
    Gaussian noise (the settings of :func:`full_mammogram_transforms`' ``augment``), on the image only. Final:
    repeat the grey channel to ``len(mean)`` channels and subtract ``mean`` / divide by ``std`` per channel.

    The augmentation runs on the grey [0, 1] image, before the normalisation, because that is where its settings
    mean what they say: rotation and zoom pad with 0 = black (after normalisation 0 is the mean grey), brightness
    scales intensities (after normalisation it would scale the distance from the mean, a contrast change), and the
    noise is the same in all three channels (added after the repeat it would differ per channel, colour noise on a
    grey image). It also keeps the cache small and shared: the cached entry is the one-channel [0, 1] image, the
    repeat and normalisation (under a millisecond at 224 x 224) run each epoch, and bundles with different
    ``mean`` / ``std`` (ImageNet CNNs, a ViT with 0.5) reuse the same entries. Paper B's "saturation" jitter is not
    offered: on a grey image repeated to three channels it changes nothing.

    Items without a mask: with ``crop=True`` an item that lacks the ``mask_key`` key (inference on a folder of
    images) is cropped to its ``box_key`` box plus the margin when it has one, else kept whole; either way the
    crop is recorded, so the item looks like the others (``roi_start`` / ``roi_end`` included). A mask with no
    lesion in it still raises. ``crop=False`` ignores masks and boxes: the whole mammogram, resized to
    ``image_size`` (the aspect ratio is not kept).

    Args:
        image_size: output size ``(W, H)`` or one int.
        image_key, mask_key, label_key, box_key: item keys; ``label_key=None`` leaves labels alone, ``box_key=None``
            ignores boxes.
        crop: crop around the lesion (True) or use the whole mammogram (False).
        margin, min_size, square: crop settings of :class:`~monai_cbis.transforms.CropByROI`. ``square=True`` by
            default (unlike :func:`roi_crop_transforms`) so that the resize to a square does not distort the lesion.
        clip_limit, tile_grid_size: CLAHE settings (OpenCV convention).
        mean, std: per-channel normalisation of the [0, 1] image; their length is the number of output channels
            (ImageNet by default; ``(0.5, 0.5, 0.5)`` for both for a ViT).
        augment: overrides of the augmentation settings, as for :func:`full_mammogram_transforms`.

    Example:
        >>> preset = lesion_classification_transforms(image_size=224)
        >>> out = preset.inference()({"image": "full.dcm", "mask": "mask.dcm", "label": 1})  # doctest: +SKIP
        >>> out["image"].shape, out["image"].dtype, out["label"], "mask" in out  # doctest: +SKIP
        (torch.Size([3, 224, 224]), torch.float32, tensor(1), False)
    """
    mean, std = _mean_std(mean, std)
    det: list = [ClassIndexd(label_key, allow_missing_keys=True)] if label_key else []
    if crop:
        crop_args = {"margin": margin, "min_size": min_size, "square": square}
        det += [
            LoadMammogramd(image_key),
            _LoadIfPresentd(mask_key),
            _LesionCropd(image_key, image_key, mask_key, box_key, **crop_args),
        ]
    else:
        det.append(LoadMammogramd(image_key))
    det += [
        DeleteItemsd([k for k in (mask_key, box_key) if k]),
        FastResized(image_key, image_size, inverse_mode="bilinear"),
        CLAHEd(image_key, clip_limit=clip_limit, tile_grid_size=tile_grid_size),
        *_finish([image_key], image_key, 1),
    ]
    final: list = [RepeatChanneld(image_key, repeats=len(mean))] if len(mean) > 1 else []
    final.append(NormalizeIntensityd(image_key, subtrahend=mean, divisor=std, channel_wise=True))
    p = _augment_params(augment)
    params = {
        "image_size": image_size,
        "crop": crop,
        "margin": margin,
        "min_size": min_size,
        "square": square,
        "clip_limit": clip_limit,
        "tile_grid_size": tile_grid_size,
        "mean": mean,
        "std": std,
        "augment": p,
    }
    random = _augmentation([image_key], image_key, [0, 1], ["bilinear"], p)
    return Preset("lesion_classification", Compose(det), random, params, Compose(final))


PRESETS: dict[str, Callable[..., Preset]] = {
    "full_mammogram": full_mammogram_transforms,
    "roi_crop": roi_crop_transforms,
    "lesion_classification": lesion_classification_transforms,
}

_PARTS = ("train", "deterministic", "random", "inference")


def get_preset(name: str, **kwargs) -> Preset:
    """Build a preset by name, e.g. ``get_preset("roi_crop", image_size=256)``."""
    if name not in PRESETS:
        raise ValueError(f"Unsupported preset: {name!r}, available options are {sorted(PRESETS)}.")
    return PRESETS[name](**kwargs)


def preset_compose(name: str, part: str = "train", **kwargs) -> Compose:
    """One part of a named preset as a ``Compose``, for bundle configs (``_target_``) that should hold no
    expressions: ``"train"`` (all parts), ``"inference"`` (:meth:`Preset.inference`: deterministic and final parts),
    ``"deterministic"`` (the cacheable part alone) or ``"random"``. For the presets without a final part
    ``"deterministic"`` and ``"inference"`` are the same; for ``lesion_classification`` validation and inference
    need ``"inference"``."""
    if part not in _PARTS:
        raise ValueError(f"Unsupported part: {part!r}, available options are {list(_PARTS)}.")
    preset = get_preset(name, **kwargs)
    if part == "train":
        return preset.train()
    if part == "inference":
        return preset.inference()
    return preset.random if part == "random" else preset.deterministic
