"""The preset registry: :data:`PRESETS` by name, :func:`get_preset` (what bundle configs call) and
:func:`preset_compose` (one part of a preset, a convenience for Python users)."""

from __future__ import annotations

from collections.abc import Callable

from monai.transforms import Compose

from .base import Preset
from .detection import detection_transforms
from .full_mammogram import full_mammogram_transforms
from .highres import highres_transforms
from .lesion_classification import lesion_classification_transforms
from .roi_crop import roi_crop_transforms

__all__ = ["PRESETS", "PARTS", "get_preset", "preset_compose"]

PRESETS: dict[str, Callable[..., Preset]] = {
    "full_mammogram": full_mammogram_transforms,
    "roi_crop": roi_crop_transforms,
    "lesion_classification": lesion_classification_transforms,
    "detection": detection_transforms,
    "highres": highres_transforms,
}

#: The parts :func:`preset_compose` returns.
PARTS = ("train", "deterministic", "random", "inference")


def get_preset(name: str, **kwargs) -> Preset:
    """Build a preset by name; ``kwargs`` are that preset's settings (e.g.
    :class:`~monai_cbis.transforms.presets.roi_crop.RoiCropSettings`).

    Raises:
        ValueError: an unknown name, listing the registered ones.

    Example:
        >>> preset = get_preset("roi_crop", image_size=256)
        >>> preset.name, preset.params["image_size"], preset.inference() is preset.deterministic
        ('roi_crop', 256, True)
    """
    if name not in PRESETS:
        raise ValueError(f"Unsupported preset: {name!r}, available options are {sorted(PRESETS)}.")
    return PRESETS[name](**kwargs)


def preset_compose(name: str, part: str = "train", **kwargs) -> Compose:
    """One part of a named preset as a ``Compose``: ``get_preset(name, **kwargs)`` then the part, for Python code
    that wants one pipeline in one call. Bundle configs build the :class:`Preset` once with :func:`get_preset` and
    take ``$@preset.train()`` / ``$@preset.inference()``.

    Args:
        name, kwargs: as for :func:`get_preset`.
        part: ``"train"`` (:meth:`Preset.train`: all parts), ``"inference"`` (:meth:`Preset.inference`:
            deterministic and final parts), ``"deterministic"`` (the cacheable part alone) or ``"random"``. For the
            presets without a final part ``"deterministic"`` and ``"inference"`` are the same; for
            ``lesion_classification`` validation and inference need ``"inference"``.

    Raises:
        ValueError: an unknown part or preset name, listing the allowed ones.

    Example:
        >>> [type(t).__name__ for t in preset_compose("roi_crop", part="random").transforms][:3]
        ['RandRotated', 'RandFlipd', 'RandFlipd']
    """
    if part not in PARTS:
        raise ValueError(f"Unsupported part: {part!r}, available options are {list(PARTS)}.")
    preset = get_preset(name, **kwargs)
    if part == "train":
        return preset.train()
    if part == "inference":
        return preset.inference()
    return preset.random if part == "random" else preset.deterministic
