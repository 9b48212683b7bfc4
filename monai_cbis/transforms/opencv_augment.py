"""Paper B's augmentation in one OpenCV pass on CPU: the fast path for feeding a GPU from DataLoader workers.

MONAI's random transforms run one after another on torch tensors: rotation, flips and zoom each resample the whole
image (rotation about 36 ms, zoom about 21 ms per 224-pixel image on this project's 2-core machine), too slow to
serve the 800 images/s a GPU asks for (``benchmarks/loader.py``). Here the same list is drawn once per item and
applied in one pass on numpy arrays:

* rotation, flips and zoom form one affine matrix (rotation first, then the flips, then the zoom, all about the
  image centre, as MONAI's ``RandRotated`` -> ``RandFlipd`` -> ``RandZoomd`` order), applied with one
  ``cv2.warpAffine`` per channel (linear for the image, nearest for masks: a 0/1 mask stays 0/1); flips alone are
  exact array flips and nothing fired is no copy at all;
* brightness (``v * (1 + f)``), contrast (MONAI's gamma formula on the image's own min/max) and Gaussian noise (its
  spread drawn in ``[0, noise_std]`` as MONAI's ``sample_std``; OpenCV's generator, seeded from the draw), each
  with its own probability, on the image keys.

Ranges, probabilities and the order of the draws are those of
:func:`~monai_cbis.transforms.presets.base.augmentation`, so training sees augmentation of the same kind and
strength; the pixels differ from MONAI's in two known ways: zoom is one resampling about the centre (MONAI resizes,
then crops or pads to the original size, padding with edge values) and what moves in from outside the image is 0
(MONAI's rotation pads with zeros as well). Nothing is recorded in ``applied_operations`` (training augmentation is
never inverted). Runs on CPU arrays and tensors only; for a GPU use the MONAI backend with ``augment_device``
(:mod:`monai_cbis.transforms.device`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.data.meta_obj import get_track_meta
from monai.transforms import MapTransform, RandomizableTransform
from monai.utils import TransformBackends, convert_to_dst_type, convert_to_tensor, ensure_tuple, ensure_tuple_rep

__all__ = ["AugmentDraw", "RandOpenCVAugment", "RandOpenCVAugmentd", "OPENCV_MODES"]

#: Interpolation names (MONAI's) and their OpenCV flags.
OPENCV_MODES = {"bilinear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST, "bicubic": cv2.INTER_CUBIC}
_WARPABLE = (np.uint8, np.uint16, np.int16, np.float32, np.float64)  # dtypes cv2.warpAffine takes as they are


@dataclass(frozen=True)
class AugmentDraw:
    """One draw of :class:`RandOpenCVAugment`: what fires and with which value (None: that step does not fire)."""

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

    def matrix(self, shape: Sequence[int]) -> np.ndarray:
        """The 3 x 3 forward matrix for a 2D array of ``shape`` ``(n0, n1)``, in OpenCV's coordinates (``x`` along the
        array's second dimension, ``y`` along its first): rotation, then flips, then zoom, about the centre
        ``((n1 - 1) / 2, (n0 - 1) / 2)`` (MONAI's centre; a positive angle turns as MONAI's ``Rotate`` does)."""
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


class RandOpenCVAugment(RandomizableTransform):
    """Paper B's augmentation of one channel-first 2D image in one OpenCV pass (see the module docstring).

    Args:
        rotate_range: rotation angle in radians: ``x`` draws in ``[-x, x]``, a pair in ``[lo, hi]``.
        rotate_prob, flip_prob, zoom_prob: probability of the rotation, of each flip, of the zoom.
        flip_axes: the spatial axes that may be flipped (MONAI's ``spatial_axis``: 0 or 1), each drawn on its own.
        zoom: ``(min, max)`` zoom factor (> 1 enlarges).
        brightness: ``f`` in ``v * (1 + f)`` is drawn in ``[-brightness, brightness]``.
        contrast_gamma: ``(min, max)`` gamma of MONAI's ``AdjustContrast`` formula.
        noise_std: the noise's standard deviation is drawn in ``[0, noise_std]``.
        intensity_prob: probability of each of brightness, contrast and noise.
        mode: interpolation, one of :data:`OPENCV_MODES` (``"nearest"`` for masks).

    The defaults are paper B's (:data:`~monai_cbis.transforms.presets.base.AUGMENT_DEFAULTS`). Output: the input's
    type (a MetaTensor keeps its metadata), shape and dtype.

    Raises:
        ValueError: an unknown ``mode``; a tensor on a device other than the CPU.

    Example:
        >>> import torch
        >>> t = RandOpenCVAugment(rotate_prob=1.0, rotate_range=(np.pi / 2, np.pi / 2), flip_prob=0.0, zoom_prob=0.0,
        ...                       intensity_prob=0.0, mode="nearest")
        >>> img = torch.zeros(1, 5, 5); img[0, 0, 2] = 1
        >>> torch.nonzero(t(img)[0]).tolist()  # top centre -> right centre, as MONAI's Rotate(pi / 2)
        [[2, 4]]
    """

    backend = [TransformBackends.NUMPY, TransformBackends.TORCH]

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
        mode: str = "bilinear",
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
        self.mode = _check_mode(mode)
        self.draw = AugmentDraw()

    def randomize(self, data=None) -> None:
        """Draw every step (all values are drawn whether or not the step fires, so the stream does not depend on
        the outcome)."""
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

    def apply(self, img, mode: str | None = None, intensity: bool = True):
        """Apply the current :attr:`draw` to a channel-first 2D ``img``: the geometry with ``mode``, then the
        intensity steps when ``intensity``."""
        mode = self.mode if mode is None else _check_mode(mode)
        if isinstance(img, torch.Tensor) and img.device.type != "cpu":
            raise ValueError(
                f"RandOpenCVAugment runs on CPU data, got a tensor on {img.device}; for a GPU use the MONAI backend "
                "with augment_device."
            )
        if img.ndim != 3:
            raise ValueError(f"RandOpenCVAugment expects a channel-first 2D image (C, W, H), got shape {img.shape}.")
        d = self.draw
        if not d.spatial and not (intensity and _any_intensity(d)):
            return img
        arr = img.as_tensor().numpy() if isinstance(img, MetaTensor) else np.asarray(img)
        out = _warp(arr, d, OPENCV_MODES[mode]) if d.spatial else arr
        if intensity:
            out = _intensity(out, d)
        return _like(np.ascontiguousarray(out), img)

    def __call__(self, img, mode: str | None = None, randomize: bool = True):
        if randomize:
            self.randomize()
        return self.apply(img, mode)


class RandOpenCVAugmentd(RandomizableTransform, MapTransform):
    """Dictionary twin of :class:`RandOpenCVAugment`: one draw per item, the geometry applied to every key (image
    and masks move together), the intensity steps to ``intensity_keys`` only.

    Args:
        keys: the keys to move.
        intensity_keys: the keys that also get brightness, contrast and noise (default: the first of ``keys``).
        mode: interpolation per key, or one for all (``["bilinear", "nearest"]`` for an image and its mask).
        allow_missing_keys: skip keys an item lacks.
        kwargs: the augmentation settings of :class:`RandOpenCVAugment` (``rotate_range``, ``flip_axes``, ...).

    Example:
        >>> import torch
        >>> t = RandOpenCVAugmentd(["image", "label"], mode=["bilinear", "nearest"], flip_prob=1.0, rotate_prob=0.0,
        ...                        zoom_prob=0.0, intensity_prob=0.0).set_random_state(0)
        >>> out = t({"image": torch.arange(4.0).reshape(1, 1, 4), "label": torch.tensor([[[1.0, 0, 0, 0]]])})
        >>> out["image"].tolist(), out["label"].tolist()
        ([[[3.0, 2.0, 1.0, 0.0]]], [[[0.0, 0.0, 0.0, 1.0]]])
    """

    backend = RandOpenCVAugment.backend

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
        self.mode = tuple(_check_mode(m) for m in ensure_tuple_rep(mode, len(self.keys)))
        self.augment = RandOpenCVAugment(**kwargs)

    def set_random_state(self, seed: int | None = None, state: np.random.RandomState | None = None):
        super().set_random_state(seed, state)
        self.augment.set_random_state(seed, state)
        return self

    def randomize(self, data=None) -> None:
        self.augment.randomize()

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        self.randomize()
        for key, mode in self.key_iterator(d, self.mode):
            d[key] = self.augment.apply(d[key], mode, intensity=key in self.intensity_keys)
        return d


def _like(out: np.ndarray, img):
    """``out`` as ``img``'s type: a MetaTensor gets ``img``'s metadata (a shallow copy of its ``meta`` dict and of
    its ``applied_operations``: the cached input is never written to, and at about 0.01 ms instead of the 0.1-0.2 ms
    of MONAI's deep-copying ``convert_to_dst_type``), a tensor a tensor, an array an array."""
    if isinstance(img, MetaTensor):
        res = torch.from_numpy(out).as_subclass(MetaTensor).copy_meta_from(img, copy_attr=False)
        res.meta = dict(img.meta)
        res.applied_operations = list(img.applied_operations)
        return res
    if isinstance(img, torch.Tensor):
        if get_track_meta():  # MONAI's convention: a plain tensor comes back as a MetaTensor when meta is tracked
            return convert_to_dst_type(src=out, dst=convert_to_tensor(img, track_meta=True))[0]
        return torch.from_numpy(out)
    return out


def _check_mode(mode: str) -> str:
    if mode not in OPENCV_MODES:
        raise ValueError(f"Unsupported mode: {mode!r}, available options are {sorted(OPENCV_MODES)}.")
    return mode


def _any_intensity(d: AugmentDraw) -> bool:
    return d.brightness is not None or d.gamma is not None or d.noise_std is not None


def _warp(arr: np.ndarray, d: AugmentDraw, flag: int) -> np.ndarray:
    """The draw's geometry: exact flips when nothing else fires, else one ``warpAffine`` per channel (dtypes OpenCV
    cannot warp go through float32 and back)."""
    if d.angle is None and d.zoom is None:
        return np.flip(arr, axis=tuple(a + 1 for a in d.flips)).copy()
    rows, cols = arr.shape[1:]
    m = d.matrix((rows, cols))[:2]
    work = arr if arr.dtype in _WARPABLE else arr.astype(np.float32)
    out = np.empty_like(work)
    for c in range(work.shape[0]):
        cv2.warpAffine(work[c], m, (cols, rows), dst=out[c], flags=flag, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out if out.dtype == arr.dtype else out.astype(arr.dtype)


def _intensity(arr: np.ndarray, d: AugmentDraw) -> np.ndarray:
    """Brightness, contrast, noise in MONAI's order, computed in float32 and returned in ``arr``'s dtype."""
    if not _any_intensity(d):
        return arr
    out = arr.astype(np.float32, copy=True)
    if d.brightness is not None:
        out *= np.float32(1.0 + d.brightness)
    if d.gamma is not None:
        lo, hi = float(out.min()), float(out.max())
        out -= lo
        out *= np.float32(1.0 / (hi - lo + 1e-7))
        for c in range(out.shape[0]):
            cv2.pow(out[c], d.gamma, dst=out[c])
        out *= np.float32(hi - lo)
        out += np.float32(lo)
    if d.noise_std is not None:
        cv2.setRNGSeed(d.noise_seed)  # OpenCV's generator is per thread: a worker's draws stay its own
        noise = np.empty(out.shape[1:], np.float32)
        for c in range(out.shape[0]):
            cv2.randn(noise, 0.0, d.noise_std)
            out[c] += noise
    return out if arr.dtype == np.float32 else out.astype(arr.dtype)
