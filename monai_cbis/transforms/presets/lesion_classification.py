"""Paper B's benign/malignant classifier input: the lesion crop (or the whole mammogram) as a normalised
``(3, 224, 224)`` float32 image and an int64 ``label``.

Load image (and mask), crop the largest lesion plus a margin (or keep the whole mammogram), resize to 224, CLAHE,
float32 in [0, 1]; then augmentation on that grey image; then repeat to 3 channels and normalise with the
backbone's mean/std (see :class:`LesionClassificationSettings` for why the augmentation sits before the
normalisation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from monai.transforms import DeleteItemsd, NormalizeIntensityd, RepeatChanneld

from ..intensity import CLAHEd
from ..io import LoadMammogramd, LoadMammogramIfPresentd
from ..labels import ClassIndexd
from ..lesion_crop import LesionCropd
from ..spatial import FastResized
from .base import Preset, PresetSettings, augmentation, float32_output

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "LesionClassificationSettings", "lesion_classification_transforms"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class LesionClassificationSettings(PresetSettings):
    """The settings of :func:`lesion_classification_transforms`.

    Deterministic (cached): load the image (and the mask), crop the mask's largest lesion plus ``margin``
    (:class:`~monai_cbis.transforms.LesionCropd`; ``roi_start`` / ``roi_end`` record the box), drop the mask and
    box keys, resize to ``image_size``, CLAHE, float32 in [0, 1]; the label becomes a 0-d int64 tensor
    (:class:`~monai_cbis.transforms.ClassIndexd`), so a batch of labels has shape ``(B,)``; items without a label
    (inference) pass. Random: rotation, horizontal and vertical flips, zoom, brightness, contrast (gamma) and
    Gaussian noise (the settings of :func:`~monai_cbis.transforms.full_mammogram_transforms`' ``augment``), on the
    image only. Final: repeat the grey channel to ``len(mean)`` channels and subtract ``mean`` / divide by ``std``
    per channel.

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
            default (unlike the ``roi_crop`` preset) so that the resize to a square does not distort the lesion.
        clip_limit, tile_grid_size: CLAHE settings (OpenCV convention).
        mean, std: per-channel normalisation of the [0, 1] image; their length is the number of output channels
            (ImageNet by default; ``(0.5, 0.5, 0.5)`` for both for a ViT). Stored as tuples of floats.
        augment: overrides of the augmentation settings, as for
            :class:`~monai_cbis.transforms.presets.full_mammogram.FullMammogramSettings`.

    Raises:
        ValueError: ``mean`` and ``std`` of different lengths, empty, or a ``std`` <= 0; an unknown augmentation
            setting.
    """

    image_size: int | Sequence[int] = 224
    image_key: str = "image"
    mask_key: str = "mask"
    label_key: str | None = "label"
    box_key: str | None = "box"
    crop: bool = True
    margin: int | Sequence[int] = 64
    min_size: int | Sequence[int] | None = None
    square: bool = True
    clip_limit: float = 2.0
    tile_grid_size: int | Sequence[int] = 8
    mean: Sequence[float] = IMAGENET_MEAN
    std: Sequence[float] = IMAGENET_STD
    augment: dict | None = None

    name: ClassVar[str] = "lesion_classification"

    def __post_init__(self) -> None:
        m, s = tuple(float(v) for v in self.mean), tuple(float(v) for v in self.std)
        if not m or len(m) != len(s) or min(s) <= 0:
            raise ValueError(
                f"mean and std must have one value per output channel (same length, std > 0), got mean={m}, "
                f"std={s}; e.g. ImageNet {IMAGENET_MEAN} / {IMAGENET_STD}, or (0.5, 0.5, 0.5) for both."
            )
        object.__setattr__(self, "mean", m)
        object.__setattr__(self, "std", s)
        super().__post_init__()

    def deterministic_transforms(self) -> list:
        image_key = self.image_key
        det: list = [ClassIndexd(self.label_key, allow_missing_keys=True)] if self.label_key else []
        if self.crop:
            crop_args = {"margin": self.margin, "min_size": self.min_size, "square": self.square}
            det += [
                LoadMammogramd(image_key),
                LoadMammogramIfPresentd(self.mask_key),
                LesionCropd(image_key, roi_key=self.mask_key, box_key=self.box_key, image_key=image_key, **crop_args),
            ]
        else:
            det.append(LoadMammogramd(image_key))
        return det + [
            DeleteItemsd([k for k in (self.mask_key, self.box_key) if k]),
            FastResized(image_key, self.image_size, inverse_mode="bilinear"),
            CLAHEd(image_key, clip_limit=self.clip_limit, tile_grid_size=self.tile_grid_size),
            *float32_output([image_key], image_key, 1),
        ]

    def random_transforms(self) -> list:
        return augmentation([self.image_key], self.image_key, [0, 1], ["bilinear"], self.augment)

    def final_transforms(self) -> list:
        final: list = [RepeatChanneld(self.image_key, repeats=len(self.mean))] if len(self.mean) > 1 else []
        final.append(NormalizeIntensityd(self.image_key, subtrahend=self.mean, divisor=self.std, channel_wise=True))
        return final


def lesion_classification_transforms(*args, **kwargs) -> Preset:
    """Paper B's classifier input: ``get_preset("lesion_classification", ...)``.

    Args:
        args, kwargs: the fields of :class:`LesionClassificationSettings`, in its order (``image_size`` first).

    Example:
        >>> preset = lesion_classification_transforms(image_size=224)
        >>> [type(t).__name__ for t in preset.final.transforms]
        ['RepeatChanneld', 'NormalizeIntensityd']
        >>> out = preset.inference()({"image": "full.dcm", "mask": "mask.dcm", "label": 1})  # doctest: +SKIP
        >>> out["image"].shape, out["image"].dtype, out["label"], "mask" in out  # doctest: +SKIP
        (torch.Size([3, 224, 224]), torch.float32, tensor(1), False)
    """
    return LesionClassificationSettings(*args, **kwargs).preset()
