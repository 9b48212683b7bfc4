"""What every preset is made of: the :class:`Preset` (its parts), :class:`PresetSettings` (the one place a preset's
arguments live, read by every part) and the pieces the presets share (augmentation, float32 output).

A new preset is a frozen dataclass subclass of :class:`PresetSettings` whose fields are its arguments and whose
``deterministic_transforms`` / ``random_transforms`` / ``final_transforms`` build its parts from those fields, plus
an entry in :data:`~monai_cbis.transforms.presets.registry.PRESETS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import ClassVar

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

from ..batch_augment import RandBatchAugmentd
from ..opencv_augment import RandOpenCVAugmentd

__all__ = [
    "Preset",
    "PresetSettings",
    "FilmWithMasksKeys",
    "AUGMENT_DEFAULTS",
    "AUGMENT_BACKENDS",
    "augment_settings",
    "augmentation",
    "float32_output",
]


@dataclass(frozen=True)
class Preset:
    """A named pipeline split into a cacheable deterministic part, a random augmentation part and an optional final
    deterministic part that must follow the augmentation (not cached in training: it runs after the first random
    transform; cheap by design).

    Attributes:
        name: the registry name (``get_preset(name)``).
        deterministic: load, geometry, enhancement: computed once per image and cacheable (see
            :mod:`monai_cbis.transforms.cache`).
        random: the augmentation, drawn anew each epoch from the MONAI transforms' own ``R``.
        params: the settings the preset was built with (its arguments without the item keys, defaults filled in).
        final: deterministic steps after the augmentation (the classification preset's channel repeat and mean/std
            normalisation), or None.
        batch: the augmentation of whole collated batches on ``augment_device``
            (:class:`~monai_cbis.transforms.RandBatchAugmentd`), or None. When set, ``random`` is empty: training
            applies ``batch`` to each batch after moving it to the device (the bundles' trainers do it with
            :class:`~monai_cbis.engines.PrepareBatchAugment`).
    """

    name: str
    deterministic: Compose
    random: Compose
    params: dict = field(default_factory=dict)
    final: Compose | None = None
    batch: Compose | None = None

    def _final(self) -> list:
        return list(self.final.transforms) if self.final is not None else []

    def train(self) -> Compose:
        """Deterministic, random then final transforms, one flat ``Compose`` (what ``PersistentDataset`` splits
        again). With :attr:`batch` set (``augment_device``) this has no augmentation: apply :attr:`batch` to each
        collated batch on the device (``PrepareBatchAugment(preset.batch, device)`` as a trainer's
        ``prepare_batch``, or ``preset.batch(batch)`` in a loop of your own)."""
        return Compose(list(self.deterministic.transforms) + list(self.random.transforms) + self._final())

    def inference(self) -> Compose:
        """The deterministic part, then the final part if any (validation, test, inference; invert predictions with
        it). Without a final part this is ``self.deterministic`` itself."""
        if not self._final():
            return self.deterministic
        return Compose(list(self.deterministic.transforms) + self._final())


class FilmWithMasksKeys:
    """The keys of a preset that reads a film and, with ``label_key``, the stack of its lesion masks, and makes the
    lesion index map (``label_index_key``) beside the merged label: the settings of ``full_mammogram`` and
    ``highres`` (they need ``image_key``, ``label_key`` and ``label_index_key`` attributes)."""

    @property
    def loaded_keys(self) -> list[str]:
        """The keys read from files: the image and, with ``label_key``, the stack of its masks."""
        return [self.image_key] + ([self.label_key] if self.label_key else [])

    @property
    def index_key(self) -> str | None:
        """The lesion index map's key, or None when the preset makes none."""
        return self.label_index_key if self.label_key else None

    @property
    def keys(self) -> list[str]:
        """Every key of the output: :attr:`loaded_keys`, then the index map's."""
        return self.loaded_keys + ([self.index_key] if self.index_key else [])

    @property
    def modes(self) -> list[str]:
        """The interpolation of each of :attr:`keys`."""
        return ["bilinear"] + ["nearest"] * (len(self.keys) - 1)


@dataclass(frozen=True)
class PresetSettings:
    """Base of each preset's settings: the subclass's fields are the preset's arguments, written once; its three
    ``*_transforms`` methods build the parts from them, and :meth:`preset` assembles the :class:`Preset`.

    Fields whose name ends in ``_key`` are item keys: they shape the pipeline but are left out of
    :attr:`Preset.params`. An ``augment`` field (overrides of :data:`AUGMENT_DEFAULTS`) is replaced by the full
    settings on construction, so an unknown setting fails at once.
    """

    name: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if any(f.name == "augment" for f in fields(self)):
            object.__setattr__(self, "augment", augment_settings(self.augment))  # type: ignore[attr-defined]
        backend = getattr(self, "augment_backend", "monai")
        if backend not in AUGMENT_BACKENDS:
            raise ValueError(
                f"Unsupported augment_backend: {backend!r}, available options are {list(AUGMENT_BACKENDS)}."
            )
        if backend == "opencv" and getattr(self, "augment_device", None) is not None:
            raise ValueError(
                f"augment_backend='opencv' runs on CPU arrays and cannot be combined with augment_device="
                f"{self.augment_device!r}: use augment_backend='monai' to augment on a device."  # type: ignore[attr-defined]
            )

    def deterministic_transforms(self) -> list:
        """The cacheable transforms (load, geometry, enhancement)."""
        raise NotImplementedError

    def random_transforms(self) -> list:
        """The augmentation (built with :attr:`augment_kind`, for presets with the switches)."""
        raise NotImplementedError

    @property
    def augment_kind(self) -> str:
        """What :func:`augmentation` builds: ``"batch"`` with an ``augment_device``, else the ``augment_backend``
        (``"monai"`` for presets without the switches)."""
        if getattr(self, "augment_device", None) is not None:
            return "batch"
        return getattr(self, "augment_backend", "monai")

    def final_transforms(self) -> list:
        """Deterministic transforms that must follow the augmentation; none by default."""
        return []

    def params(self) -> dict:
        """The settings without the item keys (what :attr:`Preset.params` records)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.endswith("_key")}

    def preset(self) -> Preset:
        """The :class:`Preset` these settings describe. Settings with an ``augment_device`` (not None) get an empty
        random part and the augmentation as :attr:`Preset.batch`: the whole training pipeline of an item is then
        deterministic (cached whole), and the augmentation runs per batch on the device.

        Raises:
            ValueError: ``augment_device`` with a preset that has a final part (it would have to follow the
                augmentation, item by item).
        """
        final = self.final_transforms()
        random = self.random_transforms()
        batch = None
        if self.augment_kind == "batch":
            if final:
                raise ValueError(f"augment_device is not supported by the {self.name!r} preset (it has a final part).")
            batch, random = Compose(random), []
        return Preset(
            self.name,
            Compose(self.deterministic_transforms()),
            Compose(random),
            self.params(),
            Compose(final) if final else None,
            batch,
        )


#: How the augmentation runs on each item: ``"monai"`` (MONAI's random transforms, one after another) or
#: ``"opencv"`` (:class:`~monai_cbis.transforms.opencv_augment.RandOpenCVAugmentd`: the same list drawn once and
#: applied in one OpenCV pass on CPU, for DataLoader workers that must feed a GPU). With ``augment_device`` the
#: augmentation runs per batch instead (:class:`~monai_cbis.transforms.RandBatchAugmentd`).
AUGMENT_BACKENDS = ("monai", "opencv")

#: Paper B's augmentation (rotation, flips, zoom, brightness/contrast, Gaussian noise), probabilities and ranges.
AUGMENT_DEFAULTS = {
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


def augment_settings(overrides: dict | None) -> dict:
    """:data:`AUGMENT_DEFAULTS` updated with ``overrides``.

    Raises:
        ValueError: an unknown setting, listing the known ones.

    Example:
        >>> augment_settings({"flip_prob": 0.0})["flip_prob"], augment_settings(None)["zoom"]
        (0.0, (0.9, 1.1))
    """
    settings = dict(AUGMENT_DEFAULTS)
    unknown = set(overrides or {}) - set(settings)
    if unknown:
        raise ValueError(
            f"Unsupported augmentation settings: {sorted(unknown)}, available options are {sorted(settings)}."
        )
    settings.update(overrides or {})
    return settings


def augmentation(
    keys: list[str],
    image_key: str,
    axes: Sequence[int],
    modes: Sequence[str],
    settings: dict,
    backend: str = "monai",
) -> list:
    """The random transforms: rotation, a flip per spatial axis in ``axes`` and zoom on ``keys`` (interpolated with
    ``modes``, one per key), then brightness, contrast (gamma) and Gaussian noise on ``image_key``: MONAI's six or
    seven transforms, or with ``backend="opencv"`` one :class:`~monai_cbis.transforms.RandOpenCVAugmentd` with the
    same settings (see :data:`AUGMENT_BACKENDS`), or with ``backend="batch"`` one
    :class:`~monai_cbis.transforms.RandBatchAugmentd` (for whole batches: :attr:`PresetSettings.augment_kind`)."""
    p = settings
    if backend == "opencv":
        return [RandOpenCVAugmentd(keys, intensity_keys=image_key, mode=list(modes), flip_axes=list(axes), **p)]
    if backend == "batch":
        return [
            RandBatchAugmentd(
                keys, intensity_keys=image_key, mode=list(modes), flip_axes=list(axes), allow_missing_keys=True, **p
            )
        ]
    return [
        RandRotated(keys, range_x=p["rotate_range"], prob=p["rotate_prob"], mode=modes, padding_mode="zeros"),
        *[RandFlipd(keys, spatial_axis=a, prob=p["flip_prob"]) for a in axes],
        RandZoomd(keys, min_zoom=p["zoom"][0], max_zoom=p["zoom"][1], prob=p["zoom_prob"], mode=modes),
        RandScaleIntensityd(image_key, factors=p["brightness"], prob=p["intensity_prob"]),
        RandAdjustContrastd(image_key, gamma=p["contrast_gamma"], prob=p["intensity_prob"]),
        RandGaussianNoised(image_key, std=p["noise_std"], prob=p["intensity_prob"]),
    ]


def float32_output(keys: list[str], image_key: str, out_channels: int, allow_missing_keys: bool = False) -> list:
    """The last deterministic steps: every key as a float32 MetaTensor, then the grey image repeated to
    ``out_channels`` channels when more than one (for ImageNet-pretrained encoders)."""
    tail: list = [EnsureTyped(keys, dtype=torch.float32, track_meta=True, allow_missing_keys=allow_missing_keys)]
    if out_channels > 1:
        tail.append(RepeatChanneld(image_key, repeats=out_channels))
    return tail
