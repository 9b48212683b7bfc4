"""Lesion masks to {0, 1}: the mask threshold rule (:func:`half_range_threshold`, :func:`mask_threshold`,
:func:`binarize`, the only place it is written; ``CropByROI`` and ``MaskToBox`` use it too), :class:`NormalizeMask`
(one mask), :class:`MergeMasks` (an image's several masks as one label) and :class:`LesionIndexMap` (the same
masks as one map that keeps which lesion each pixel belongs to).

CBIS-DDSM writes ROI masks as 0/255 (8-bit DICOM), the Kaggle conversion as 8-bit JPEG with compression noise
around both values, and other tools as 0/1 or 0/65535. The default threshold is half of the range the mask was
written in (:func:`half_range_threshold`): 0.5 for masks whose maximum is at most 1, 127.5 for 8-bit masks,
``max / 2`` above. Values strictly above it are lesion. An all-zero mask stays all zero (the "no lesion" case is the
job of the transform that needs a lesion, e.g. ``CropByROI``).

They keep their output uint8 (``{0, 1}``, or lesion indices: compact in a cache; cast to float at the end of a
pipeline) and keep the MetaTensor metadata.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import cv2
import numpy as np
import torch
from monai.config import KeysCollection
from monai.data.meta_obj import get_track_meta
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends, convert_to_dst_type, convert_to_tensor, ensure_tuple_rep

from .checks import keyed_errors
from .views import cv_view, from_cv, to_numpy, value_range

__all__ = [
    "NormalizeMask",
    "NormalizeMaskd",
    "MergeMasks",
    "MergeMasksd",
    "LesionIndexMap",
    "lesion_index_map",
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


def lesion_index_map(stack: np.ndarray) -> np.ndarray:
    """The index map of a {0, 1} stack ``(N, W, H)``: 0 background, ``k`` where the k-th mask (1-based) is lesion.

    Where masks overlap, the pixel takes the smaller lesion's index (equal areas: the lower index), so a lesion
    drawn inside another keeps pixels of its own; only a mask wholly covered by smaller ones (or an empty one) has
    none. uint8 up to 255 masks, int32 beyond.

    Example:
        >>> import numpy as np
        >>> s = np.zeros((2, 1, 5), np.uint8); s[0, 0, :4] = 1; s[1, 0, 2:] = 1
        >>> lesion_index_map(s).tolist()  # mask 2 (3 pixels) is smaller than mask 1 (4): it wins the overlap
        [[1, 1, 2, 2, 2]]
    """
    n = stack.shape[0]
    out = np.zeros(stack.shape[1:], np.uint8 if n < 256 else np.int32)
    areas = stack.reshape(n, -1).sum(axis=1)
    for c in sorted(range(n), key=lambda c: (-int(areas[c]), -c)):  # the last painted (smallest) wins
        out[stack[c] > 0] = c + 1
    return out


class _MaskTransform(Transform):
    """What the mask transforms share: the ``threshold`` setting and MetaTensor in, same type out (uint8 unless the
    result needs more); subclasses compute on the numpy array in :meth:`_apply`."""

    backend = [TransformBackends.NUMPY, TransformBackends.TORCH]

    def __init__(self, threshold: float | None = None) -> None:
        self.threshold = threshold

    def _apply(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, img: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        img_t = convert_to_tensor(img, track_meta=get_track_meta())
        out = self._apply(to_numpy(img_t))
        return convert_to_dst_type(out, dst=img_t, dtype=out.dtype)[0]


def _check_stack(a: np.ndarray, name: str) -> None:
    if a.ndim != 3:
        raise ValueError(
            f"{name} expects a channel-first stack of masks (N, W, H), got shape {tuple(a.shape)}; "
            "load the list of mask files with ensure_channel_first=True."
        )


class NormalizeMask(_MaskTransform):
    """Map a lesion mask to uint8 {0, 1}, channel by channel.

    Args:
        threshold: values above it are lesion; None (default) applies the half-range rule of the module docstring
            to each channel.

    Example:
        >>> import numpy as np
        >>> NormalizeMask()(np.array([[[0, 3, 250, 255]]], dtype=np.uint8)).tolist()  # JPEG noise around 0 and 255
        [[[0, 0, 1, 1]]]
    """

    def _apply(self, a: np.ndarray) -> np.ndarray:
        if a.ndim < 2:
            raise ValueError(f"NormalizeMask expects a channel-first mask (C, W, H), got shape {tuple(a.shape)}.")
        return _binarize_channels(a.reshape((-1,) + a.shape[-2:]), self.threshold).reshape(a.shape)


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


class MergeMasks(_MaskTransform):
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

    def _apply(self, a: np.ndarray) -> np.ndarray:
        _check_stack(a, "MergeMasks")
        merged = binarize(a[0], self.threshold)
        for c in range(1, a.shape[0]):
            merged = np.maximum(merged, binarize(a[c], self.threshold))
        return merged[None]


class LesionIndexMap(_MaskTransform):
    """Which lesion each pixel belongs to: a stack of lesion masks ``(N, W, H)`` as one index map ``(1, W, H)``
    (0 background, ``k`` the k-th mask, 1-based; overlaps go to the smaller lesion, see :func:`lesion_index_map`).

    The map is the union of :class:`MergeMasks` with each lesion's identity kept: the lesion-level evaluation forms
    one ground-truth lesion per index (two touching masks stay two lesions, each with its own CSV row) where a merged
    label alone would give one per connected component. Each channel is binarised as in :class:`MergeMasks`.

    Args:
        threshold: as for :class:`NormalizeMask`.

    Example:
        >>> import numpy as np
        >>> m = np.zeros((2, 1, 4), np.uint8); m[0, 0, :2] = 255; m[1, 0, 2:] = 255  # two touching lesions
        >>> LesionIndexMap()(m).tolist()
        [[[1, 1, 2, 2]]]
    """

    def _apply(self, a: np.ndarray) -> np.ndarray:
        _check_stack(a, "LesionIndexMap")
        return lesion_index_map(_binarize_channels(a, self.threshold))[None]


class MergeMasksd(MapTransform):
    """Dictionary twin of :class:`MergeMasks`: each key's ``(N, W, H)`` stack becomes one ``(1, W, H)`` label.

    Args:
        keys, threshold, allow_missing_keys: as for :class:`MergeMasks` and MONAI's ``MapTransform``.
        index_keys: None (default), or one new key per key: it receives the :class:`LesionIndexMap` of the same
            stack, computed before the merge (same metadata and applied operations as the merged label; interpolate
            it with ``"nearest"`` in later spatial transforms).

    Example:
        >>> out = MergeMasksd("label", index_keys="label_index")({"label": np.zeros((3, 8, 8), np.uint8)})
        >>> tuple(out["label"].shape), tuple(out["label_index"].shape)
        ((1, 8, 8), (1, 8, 8))
    """

    backend = MergeMasks.backend

    def __init__(
        self,
        keys: KeysCollection,
        threshold: float | None = None,
        allow_missing_keys: bool = False,
        index_keys: KeysCollection | None = None,
    ):
        super().__init__(keys, allow_missing_keys)
        self.merger = MergeMasks(threshold)
        self.indexer = LesionIndexMap(threshold)
        self.index_keys = ensure_tuple_rep(index_keys, len(self.keys))

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        name = type(self).__name__
        for key, index_key in self.key_iterator(d, self.index_keys):
            if index_key is not None:
                d[index_key] = keyed_errors(name, key, self.indexer, d[key])
            d[key] = keyed_errors(name, key, self.merger, d[key])
        return d
