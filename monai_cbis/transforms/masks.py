"""Lesion masks to {0, 1}: the mask threshold rule (:func:`half_range_threshold`, :func:`mask_threshold`,
:func:`binarize`, the only place it is written; ``CropByROI`` and ``MaskToBox`` use it too), :class:`NormalizeMask`
(one mask) and :class:`MergeMasks` (an image's several masks).

CBIS-DDSM writes ROI masks as 0/255 (8-bit DICOM), the Kaggle conversion as 8-bit JPEG with compression noise
around both values, and other tools as 0/1 or 0/65535. The default threshold is half of the range the mask was
written in (:func:`half_range_threshold`): 0.5 for masks whose maximum is at most 1, 127.5 for 8-bit masks,
``max / 2`` above. Values strictly above it are lesion. An all-zero mask stays all zero (the "no lesion" case is the
job of the transform that needs a lesion, e.g. ``CropByROI``).

Both keep their output uint8 ``{0, 1}`` (compact in a cache; cast to float at the end of a pipeline) and keep the
MetaTensor metadata.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import cv2
import numpy as np
import torch
from monai.config import KeysCollection
from monai.data.meta_obj import get_track_meta
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends, convert_to_dst_type, convert_to_tensor

from .checks import keyed_errors
from .views import cv_view, from_cv, to_numpy, value_range

__all__ = [
    "NormalizeMask",
    "NormalizeMaskd",
    "MergeMasks",
    "MergeMasksd",
    "half_range_threshold",
    "mask_threshold",
    "binarize",
]


def half_range_threshold(max_value: float) -> float:
    """The default mask threshold: half the range the mask's values were written in.

    ``max <= 1`` -> 0.5 (masks already in {0, 1}, probabilities); ``max <= 255`` -> 127.5 (8-bit masks: CBIS-DDSM's
    0/255 DICOM masks, and the Kaggle JPEG masks whose compression noise stays far below 128); larger -> ``max / 2``
    (16-bit masks written as 0/65535 or 0/4095). An all-zero mask gets 0.5, so it stays empty.

    Example:
        >>> half_range_threshold(1), half_range_threshold(255), half_range_threshold(65535)
        (0.5, 127.5, 32767.5)
    """
    if max_value <= 1:
        return 0.5
    if max_value <= 255:
        return 127.5
    return max_value / 2.0


def mask_threshold(a: np.ndarray, threshold: float | None = None) -> float:
    """The threshold for one 2-D mask channel ``a``: ``threshold`` when given, else :func:`half_range_threshold` of
    its maximum. Lesion is where ``a > mask_threshold(a, threshold)``.

    Example:
        >>> import numpy as np
        >>> mask_threshold(np.array([[0, 255]], np.uint8)), mask_threshold(np.zeros((2, 2)), threshold=0.2)
        (127.5, 0.2)
    """
    return float(threshold) if threshold is not None else half_range_threshold(value_range(a)[1])


def binarize(a: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """``a > threshold`` as uint8 {0, 1} for one 2-D channel; ``threshold=None`` uses the half-range rule.

    Example:
        >>> import numpy as np
        >>> binarize(np.array([[0, 3], [250, 255]], np.uint8)).tolist()
        [[0, 0], [1, 1]]
    """
    threshold = mask_threshold(a, threshold)
    v, transposed = cv_view(a)  # OpenCV's threshold: SIMD, no bool temporary; it writes the input dtype
    _, out = cv2.threshold(v, float(threshold), 1, cv2.THRESH_BINARY)
    return from_cv(out.astype(np.uint8, copy=False), transposed)


def _binarize_channels(img: np.ndarray, threshold: float | None) -> np.ndarray:
    return np.stack([binarize(img[c], threshold) for c in range(img.shape[0])])


class NormalizeMask(Transform):
    """Map a lesion mask to uint8 {0, 1}, channel by channel.

    Args:
        threshold: values above it are lesion; None (default) applies the half-range rule of the module docstring
            to each channel.

    Example:
        >>> import numpy as np
        >>> NormalizeMask()(np.array([[[0, 3, 250, 255]]], dtype=np.uint8)).tolist()  # JPEG noise around 0 and 255
        [[[0, 0, 1, 1]]]
    """

    backend = [TransformBackends.NUMPY, TransformBackends.TORCH]

    def __init__(self, threshold: float | None = None) -> None:
        self.threshold = threshold

    def __call__(self, img: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        img_t = convert_to_tensor(img, track_meta=get_track_meta())
        a = to_numpy(img_t)
        if a.ndim < 2:
            raise ValueError(f"NormalizeMask expects a channel-first mask (C, W, H), got shape {tuple(a.shape)}.")
        out = _binarize_channels(a.reshape((-1,) + a.shape[-2:]), self.threshold).reshape(a.shape)
        return convert_to_dst_type(out, dst=img_t, dtype=np.uint8)[0]


class NormalizeMaskd(MapTransform):
    """Dictionary twin of :class:`NormalizeMask` (same arguments, applied to each key).

    Example:
        >>> int(NormalizeMaskd("mask")({"mask": np.full((1, 2, 2), 255, np.uint8)})["mask"].max())
        1
    """

    backend = NormalizeMask.backend

    def __init__(self, keys: KeysCollection, threshold: float | None = None, allow_missing_keys: bool = False):
        super().__init__(keys, allow_missing_keys)
        self.normalizer = NormalizeMask(threshold)

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = keyed_errors(type(self).__name__, key, self.normalizer, d[key])
        return d


class MergeMasks(Transform):
    """Union of a stack of lesion masks ``(N, W, H)`` as one {0, 1} label ``(1, W, H)``.

    Each channel is binarised with its own threshold (the half-range rule unless ``threshold`` is given), so a 0/1
    mask and a 0/255 mask merge correctly. One channel is simply normalised. A full-image label in CBIS-DDSM is the
    union of all its abnormalities' masks.

    Args:
        threshold: as for :class:`NormalizeMask`.

    Example:
        >>> import numpy as np
        >>> m = np.zeros((2, 4, 4), np.uint8); m[0, 0, 0] = 255; m[1, 3, 3] = 255
        >>> tuple(MergeMasks()(m).shape), int(MergeMasks()(m).sum())
        ((1, 4, 4), 2)
    """

    backend = [TransformBackends.NUMPY, TransformBackends.TORCH]

    def __init__(self, threshold: float | None = None) -> None:
        self.threshold = threshold

    def __call__(self, img: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        img_t = convert_to_tensor(img, track_meta=get_track_meta())
        a = to_numpy(img_t)
        if a.ndim != 3:
            raise ValueError(
                f"MergeMasks expects a channel-first stack of masks (N, W, H), got shape {tuple(a.shape)}; "
                "load the list of mask files with ensure_channel_first=True."
            )
        merged = binarize(a[0], self.threshold)
        for c in range(1, a.shape[0]):
            merged = np.maximum(merged, binarize(a[c], self.threshold))
        return convert_to_dst_type(merged[None], dst=img_t, dtype=np.uint8)[0]


class MergeMasksd(MapTransform):
    """Dictionary twin of :class:`MergeMasks`: each key's ``(N, W, H)`` stack becomes one ``(1, W, H)`` label.

    Example:
        >>> out = MergeMasksd("label")({"label": np.zeros((3, 8, 8), np.uint8)})
        >>> tuple(out["label"].shape)
        (1, 8, 8)
    """

    backend = MergeMasks.backend

    def __init__(self, keys: KeysCollection, threshold: float | None = None, allow_missing_keys: bool = False):
        super().__init__(keys, allow_missing_keys)
        self.merger = MergeMasks(threshold)

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = keyed_errors(type(self).__name__, key, self.merger, d[key])
        return d
