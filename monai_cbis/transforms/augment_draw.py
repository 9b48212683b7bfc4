"""Paper B's augmentation as one draw per image: what fires and with which value, drawn in a fixed order.

The two fast paths draw here, so they see augmentation of the same kind and strength as MONAI's chain of random
transforms (:func:`~monai_cbis.transforms.presets.base.augmentation`):

* :class:`~monai_cbis.transforms.RandOpenCVAugment` applies one draw to one image in one OpenCV pass on CPU;
* :class:`~monai_cbis.transforms.RandBatchAugment` applies one draw per image to a whole batch with one
  ``grid_sample`` on the batch's device (a GPU).

:meth:`AugmentDraw.matrix` is the draw's geometry: rotation first, then the flips, then the zoom, about the image
centre, in MONAI's ``RandRotated`` -> ``RandFlipd`` -> ``RandZoomd`` order.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from monai.config import KeysCollection
from monai.transforms import MapTransform, RandomizableTransform
from monai.utils import ensure_tuple, ensure_tuple_rep

__all__ = ["AugmentDraw", "RandAugmentDraw", "RandAugmentDrawd"]


@dataclass(frozen=True)
class AugmentDraw:
    """One draw of :class:`RandAugmentDraw`: what fires and with which value (None: that step does not fire)."""

    angle: float | None = None
    flips: tuple[int, ...] = ()
    zoom: float | None = None
    brightness: float | None = None
    gamma: float | None = None
    noise_std: float | None = None
    noise_seed: int = 0

    @property
    def spatial(self) -> bool:
        return self.angle is not None or self.zoom is not None or bool(self.flips)

    @property
    def intensity(self) -> bool:
        return self.brightness is not None or self.gamma is not None or self.noise_std is not None

    def matrix(self, shape: Sequence[int]) -> np.ndarray:
        """The 3 x 3 forward matrix for a 2D array of ``shape`` ``(n0, n1)``, in OpenCV's coordinates (``x`` along the
        array's second dimension, ``y`` along its first): rotation, then flips, then zoom, about the centre
        ``((n1 - 1) / 2, (n0 - 1) / 2)`` (MONAI's centre; a positive angle turns as MONAI's ``Rotate`` does).

        Example:
            >>> AugmentDraw(flips=(1,)).matrix((3, 5)).tolist()  # spatial axis 1: x -> 4 - x along the second dimension
            [[-1.0, 0.0, 4.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
        """
        rows, cols = shape  # OpenCV's names: the array's first and second dimension
        cx, cy = (cols - 1) / 2.0, (rows - 1) / 2.0
        to_centre, from_centre = np.eye(3), np.eye(3)
        to_centre[:2, 2], from_centre[:2, 2] = (-cx, -cy), (cx, cy)
        m = np.eye(3)
        if self.angle is not None:
            c, s = np.cos(self.angle), np.sin(self.angle)
            m = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]) @ m
        for axis in self.flips:  # MONAI's spatial axis 0 = the array's first spatial dimension = OpenCV's y
            m = np.diag([-1.0, 1.0, 1.0] if axis == 1 else [1.0, -1.0, 1.0]) @ m
        if self.zoom is not None:
            m = np.diag([self.zoom, self.zoom, 1.0]) @ m
        return from_centre @ m @ to_centre


def _range(value: float | Sequence[float], name: str) -> tuple[float, float]:
    """A number ``x`` as ``(-x, x)`` (MONAI's convention), a pair as it is (sorted)."""
    if isinstance(value, (int, float)):
        return (-abs(float(value)), abs(float(value)))
    value = tuple(float(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"{name} should be a number or a pair of numbers, got {value}.")
    return (min(value), max(value))


class RandAugmentDraw(RandomizableTransform):
    """The settings of paper B's augmentation and its draw (:meth:`randomize` sets :attr:`draw`); the base of the
    transforms that apply it.

    Args:
        rotate_range: rotation angle in radians: ``x`` draws in ``[-x, x]``, a pair in ``[lo, hi]``.
        rotate_prob, flip_prob, zoom_prob: probability of the rotation, of each flip, of the zoom.
        flip_axes: the spatial axes that may be flipped (MONAI's ``spatial_axis``: 0 or 1), each drawn on its own.
        zoom: ``(min, max)`` zoom factor (> 1 enlarges).
        brightness: ``f`` in ``v * (1 + f)`` is drawn in ``[-brightness, brightness]``.
        contrast_gamma: ``(min, max)`` gamma of MONAI's ``AdjustContrast`` formula.
        noise_std: the noise's standard deviation is drawn in ``[0, noise_std]``.
        intensity_prob: probability of each of brightness, contrast and noise.

    The defaults are paper B's (:data:`~monai_cbis.transforms.presets.base.AUGMENT_DEFAULTS`).

    Raises:
        ValueError: a flip axis other than 0 or 1; a range that is neither a number nor a pair.

    Example:
        >>> t = RandAugmentDraw(rotate_prob=0.0, flip_prob=1.0, zoom_prob=0.0, intensity_prob=0.0)
        >>> t.randomize()
        >>> t.draw.flips, t.draw.spatial, t.draw.intensity
        ((1,), True, False)
    """

    #: The interpolation names a subclass applies the draw with (MONAI's names).
    modes: tuple[str, ...] = ()

    def __init__(
        self,
        rotate_range: float | Sequence[float] = float(np.deg2rad(15.0)),
        rotate_prob: float = 0.5,
        flip_axes: Sequence[int] = (1,),
        flip_prob: float = 0.5,
        zoom: Sequence[float] = (0.9, 1.1),
        zoom_prob: float = 0.3,
        brightness: float = 0.1,
        contrast_gamma: Sequence[float] = (0.8, 1.25),
        noise_std: float = 0.02,
        intensity_prob: float = 0.3,
    ) -> None:
        RandomizableTransform.__init__(self, prob=1.0)  # each step has its own probability
        self.rotate_range = _range(rotate_range, "rotate_range")
        self.zoom = _range(zoom, "zoom")
        self.contrast_gamma = _range(contrast_gamma, "contrast_gamma")
        self.brightness, self.noise_std = float(brightness), float(noise_std)
        self.rotate_prob, self.flip_prob, self.zoom_prob = float(rotate_prob), float(flip_prob), float(zoom_prob)
        self.intensity_prob = float(intensity_prob)
        self.flip_axes = tuple(int(a) for a in ensure_tuple(flip_axes))
        if any(a not in (0, 1) for a in self.flip_axes):
            raise ValueError(f"Unsupported flip_axes: {self.flip_axes}, available spatial axes are [0, 1].")
        self.draw = AugmentDraw()

    def randomize(self, data=None) -> None:
        """Draw every step into :attr:`draw` (all values are drawn whether or not the step fires, so the stream does
        not depend on the outcome)."""
        super().randomize(None)
        r = self.R
        rot, angle = r.rand() < self.rotate_prob, r.uniform(*self.rotate_range)
        flips = tuple(a for a in self.flip_axes if r.rand() < self.flip_prob)
        zoom_on, zoom = r.rand() < self.zoom_prob, r.uniform(*self.zoom)
        bright_on, bright = r.rand() < self.intensity_prob, r.uniform(-self.brightness, self.brightness)
        gamma_on, gamma = r.rand() < self.intensity_prob, r.uniform(*self.contrast_gamma)
        noise_on, std, seed = r.rand() < self.intensity_prob, r.uniform(0, self.noise_std), r.randint(2**31)
        self.draw = AugmentDraw(
            angle=float(angle) if rot else None,
            flips=flips,
            zoom=float(zoom) if zoom_on else None,
            brightness=float(bright) if bright_on else None,
            gamma=float(gamma) if gamma_on else None,
            noise_std=float(std) if noise_on else None,
            noise_seed=int(seed),
        )

    @classmethod
    def check_mode(cls, mode: str) -> str:
        """``mode`` if it is one of :attr:`modes`.

        Raises:
            ValueError: another name, listing the known ones.
        """
        if mode not in cls.modes:
            raise ValueError(f"Unsupported mode: {mode!r}, available options are {sorted(cls.modes)}.")
        return mode

    def __call__(self, data=None):
        raise NotImplementedError(f"{type(self).__name__} only draws; RandOpenCVAugment and RandBatchAugment apply.")


class RandAugmentDrawd(RandomizableTransform, MapTransform):
    """What the dictionary twins share: the keys the geometry moves (image and masks together), the keys that also
    get the intensity steps, one interpolation per key, the array transform (:attr:`array_class`) that draws, and
    the call: one :meth:`randomize` for the data (a subclass's), then the array transform's ``apply`` on each key.

    Args:
        keys: the keys to move.
        intensity_keys: the keys that also get brightness, contrast and noise (default: the first of ``keys``).
        mode: interpolation per key, or one for all (``["bilinear", "nearest"]`` for an image and its mask).
        allow_missing_keys: skip keys an item lacks.
        kwargs: the augmentation settings of :class:`RandAugmentDraw` (``rotate_range``, ``flip_axes``, ...).

    Raises:
        ValueError: a mode the array transform does not know; see :class:`RandAugmentDraw`.
    """

    #: The array transform a subclass applies (a :class:`RandAugmentDraw` subclass).
    array_class: type[RandAugmentDraw] = RandAugmentDraw

    def __init__(
        self,
        keys: KeysCollection,
        intensity_keys: KeysCollection | None = None,
        mode: str | Sequence[str] = "bilinear",
        allow_missing_keys: bool = False,
        **kwargs,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob=1.0)
        self.intensity_keys = set(ensure_tuple(intensity_keys) if intensity_keys is not None else self.keys[:1])
        self.mode = tuple(self.array_class.check_mode(m) for m in ensure_tuple_rep(mode, len(self.keys)))
        self.augment = self.array_class(**kwargs)

    def set_random_state(self, seed: int | None = None, state: np.random.RandomState | None = None):
        super().set_random_state(seed, state)
        self.augment.set_random_state(seed, state)
        return self

    def randomize(self, data=None) -> None:
        """Draw for ``data``, the item (or batch) about to be augmented, into :attr:`augment`."""
        raise NotImplementedError

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        self.randomize(d)
        for key, mode in self.key_iterator(d, self.mode):
            d[key] = self.augment.apply(d[key], mode, intensity=key in self.intensity_keys)
        return d
