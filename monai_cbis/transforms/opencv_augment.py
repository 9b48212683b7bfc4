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
never inverted). Runs on CPU arrays and tensors only; on a GPU, whole batches are augmented with the same draws by
:class:`~monai_cbis.transforms.RandBatchAugmentd` (the presets' ``augment_device``).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from monai.data import MetaTensor
from monai.data.meta_obj import get_track_meta
from monai.utils import TransformBackends, convert_to_dst_type, convert_to_tensor

from .augment_draw import AugmentDraw, RandAugmentDraw, RandAugmentDrawd

__all__ = ["RandOpenCVAugment", "RandOpenCVAugmentd", "OPENCV_MODES"]

#: Interpolation names (MONAI's) and their OpenCV flags.
OPENCV_MODES = {"bilinear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST, "bicubic": cv2.INTER_CUBIC}
_WARPABLE = (np.uint8, np.uint16, np.int16, np.float32, np.float64)  # dtypes cv2.warpAffine takes as they are


class RandOpenCVAugment(RandAugmentDraw):
    """Paper B's augmentation of one channel-first 2D image in one OpenCV pass (see the module docstring).

    Args:
        mode: interpolation, one of :data:`OPENCV_MODES` (``"nearest"`` for masks).
        kwargs: the augmentation settings of :class:`~monai_cbis.transforms.augment_draw.RandAugmentDraw`
            (``rotate_range``, ``rotate_prob``, ``flip_axes``, ``flip_prob``, ``zoom``, ``zoom_prob``, ``brightness``,
            ``contrast_gamma``, ``noise_std``, ``intensity_prob``; paper B's by default).

    Output: the input's type (a MetaTensor keeps its metadata), shape and dtype.

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
    modes = tuple(OPENCV_MODES)

    def __init__(self, mode: str = "bilinear", **kwargs) -> None:
        super().__init__(**kwargs)
        self.mode = self.check_mode(mode)

    def apply(self, img, mode: str | None = None, intensity: bool = True):
        """Apply the current :attr:`draw` to a channel-first 2D ``img``: the geometry with ``mode``, then the
        intensity steps when ``intensity``."""
        mode = self.mode if mode is None else self.check_mode(mode)
        if isinstance(img, torch.Tensor) and img.device.type != "cpu":
            raise ValueError(
                f"RandOpenCVAugment runs on CPU data, got a tensor on {img.device}; on a GPU augment whole batches "
                "with RandBatchAugment (the presets' augment_device)."
            )
        if img.ndim != 3:
            raise ValueError(f"RandOpenCVAugment expects a channel-first 2D image (C, W, H), got shape {img.shape}.")
        d = self.draw
        if not d.spatial and not (intensity and d.intensity):
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


class RandOpenCVAugmentd(RandAugmentDrawd):
    """Dictionary twin of :class:`RandOpenCVAugment`: one draw per item, the geometry applied to every key (image
    and masks move together), the intensity steps to ``intensity_keys`` only.

    Args:
        keys: the keys to move.
        intensity_keys: the keys that also get brightness, contrast and noise (default: the first of ``keys``).
        mode: interpolation per key, or one for all (``["bilinear", "nearest"]`` for an image and its mask).
        allow_missing_keys: skip keys an item lacks.
        kwargs: the augmentation settings of :class:`~monai_cbis.transforms.augment_draw.RandAugmentDraw`
            (``rotate_range``, ``flip_axes``, ...).

    Example:
        >>> import torch
        >>> t = RandOpenCVAugmentd(["image", "label"], mode=["bilinear", "nearest"], flip_prob=1.0, rotate_prob=0.0,
        ...                        zoom_prob=0.0, intensity_prob=0.0).set_random_state(0)
        >>> out = t({"image": torch.arange(4.0).reshape(1, 1, 4), "label": torch.tensor([[[1.0, 0, 0, 0]]])})
        >>> out["image"].tolist(), out["label"].tolist()
        ([[[3.0, 2.0, 1.0, 0.0]]], [[[0.0, 0.0, 0.0, 1.0]]])
    """

    backend = RandOpenCVAugment.backend
    array_class = RandOpenCVAugment

    def randomize(self, data=None) -> None:
        self.augment.randomize()


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
    if not d.intensity:
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
