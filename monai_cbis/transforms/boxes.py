"""Boxes of lesions in masks: the geometry (:func:`foreground_bbox`, :func:`components`, :func:`grow_box`, which
the crops use too)
and :class:`MaskToBox`, detection boxes from lesion masks (paper B's boxes, "the tightest rectangle around the
non-zero region", one per connected lesion).

Boxes follow ``monai.apps.detection`` conventions: ``StandardMode`` for 2-D, ``[x_min, y_min, x_max, y_max]`` in
array index coordinates of spatial axes 0 and 1 (our ``(C, W, H)`` layout, so x = column, y = row), with exclusive
maxima (``monai.data.box_utils.TO_REMOVE == 0``), float32, shape ``(N, 4)``; labels are int64 ``(N,)``. They feed
``monai.apps.detection`` transforms (``ClipBoxToImaged``, ``BoxToMaskd``, ``RandFlipBoxd``...) and ``RetinaNet``.

Not to be confused with ``monai.apps.detection.transforms.MaskToBox``, which expects one channel *per box* already.
Compute boxes after the last geometry transform (or move them with MONAI's box transforms).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import cv2
import numpy as np
import torch
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends

from .checks import check_spatial_shapes, keyed_errors
from .masks import binarize
from .views import cv_view, to_numpy

__all__ = ["MaskToBox", "MaskToBoxd", "foreground_bbox", "components", "grow_box"]


def foreground_bbox(a: np.ndarray, threshold: float) -> tuple[int, int, int, int] | None:
    """Bounding box ``(start0, end0, start1, end1)`` (ends exclusive, spatial axes 0 and 1) of ``a > threshold``,
    or None when nothing exceeds it. Two OpenCV max-reductions, so a full-size mask costs a few milliseconds.

    Example:
        >>> import numpy as np
        >>> a = np.zeros((6, 5), np.uint8); a[1:3, 2:4] = 255
        >>> foreground_bbox(a, 127.5), foreground_bbox(a, 255)
        ((1, 3, 2, 4), None)
    """
    v, transposed = cv_view(a)
    cols = cv2.reduce(v, 0, cv2.REDUCE_MAX).ravel()
    on_cols = np.flatnonzero(cols > threshold)
    if on_cols.size == 0:
        return None
    c0, c1 = int(on_cols[0]), int(on_cols[-1]) + 1
    rows = cv2.reduce(v[:, c0:c1], 1, cv2.REDUCE_MAX).ravel()
    on_rows = np.flatnonzero(rows > threshold)
    r0, r1 = int(on_rows[0]), int(on_rows[-1]) + 1
    return (c0, c1, r0, r1) if transposed else (r0, r1, c0, c1)


def components(binary: np.ndarray, connectivity: int = 8) -> np.ndarray:
    """Connected components of a 2-D {0, 1} array: an ``(n, 5)`` int array of ``start0, end0, start1, end1, area``
    (ends exclusive, spatial axes 0 and 1), largest area first.

    Example:
        >>> import numpy as np
        >>> b = np.zeros((6, 5), np.uint8); b[0, 0] = 1; b[2:5, 1:4] = 1
        >>> components(b).tolist()
        [[2, 5, 1, 4, 9], [0, 1, 0, 1, 1]]
    """
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity}.")
    v, transposed = cv_view(np.ascontiguousarray(binary, dtype=np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(np.ascontiguousarray(v), connectivity=connectivity)
    stats = stats[1:]  # label 0 is the background
    top, left = stats[:, cv2.CC_STAT_TOP], stats[:, cv2.CC_STAT_LEFT]
    bottom, right = top + stats[:, cv2.CC_STAT_HEIGHT], left + stats[:, cv2.CC_STAT_WIDTH]
    area = stats[:, cv2.CC_STAT_AREA]
    if transposed:
        boxes = np.stack([left, right, top, bottom, area], axis=1)
    else:
        boxes = np.stack([top, bottom, left, right, area], axis=1)
    order = np.argsort(-area, kind="stable")
    return boxes[order].astype(np.int64).reshape(-1, 5)


def grow_box(start: np.ndarray, end: np.ndarray, want: np.ndarray, shape: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grow ``[start, end)`` symmetrically to ``want`` per axis, shifted back inside ``[0, shape)`` at an edge
    (a box never shrinks; ``want`` larger than ``shape`` is clipped to the image).

    Example:
        >>> import numpy as np
        >>> start, end = grow_box(np.array([0, 40]), np.array([10, 44]), np.array([32, 32]), np.array([100, 80]))
        >>> start.tolist(), end.tolist()
        ([0, 26], [32, 58])
    """
    size = end - start
    extra = np.maximum(want - size, 0)
    start = start - extra // 2
    end = start + np.maximum(size, want)
    shift_right = np.maximum(-start, 0)
    shift_left = np.maximum(end - shape, 0)
    start, end = start + shift_right - shift_left, end + shift_right - shift_left
    return np.clip(start, 0, shape), np.clip(end, 0, shape)


class MaskToBox(Transform):
    """One box per connected lesion of a ``(C, W, H)`` mask; each channel is labelled on its own.

    A stack of masks (an image's abnormality files, loaded as a list) gives each channel's lesions that channel's
    class, so two abnormalities that touch still get two boxes. An empty mask gives zero boxes, shape ``(0, 4)``: a
    documented result, not an error (MONAI's detection handles images without boxes).

    Args:
        labels: class of the boxes of each channel: one int for all, or one per channel. Default 1.
        threshold: lesion where the mask is above it; None: half-range rule (see ``monai_cbis.transforms.masks``).
        min_area: drop components with fewer pixels (speckle in a JPEG mask).
        connectivity: 8 (default) or 4.

    Returns:
        ``(boxes, labels)``: float32 ``(N, 4)`` and int64 ``(N,)``, torch tensors for tensor input, numpy for numpy.

    Example:
        >>> import numpy as np
        >>> m = np.zeros((1, 10, 8), np.uint8); m[0, 1:3, 2:5] = 255; m[0, 6:9, 6:8] = 255
        >>> boxes, labels = MaskToBox()(m)
        >>> boxes.tolist(), labels.tolist()
        ([[1.0, 2.0, 3.0, 5.0], [6.0, 6.0, 9.0, 8.0]], [1, 1])
    """

    backend = [TransformBackends.NUMPY, TransformBackends.TORCH]

    def __init__(
        self,
        labels: int | Sequence[int] = 1,
        threshold: float | None = None,
        min_area: int = 1,
        connectivity: int = 8,
    ) -> None:
        if connectivity not in (4, 8):
            raise ValueError(f"connectivity must be 4 or 8, got {connectivity}.")
        self.labels = labels
        self.threshold = threshold
        self.min_area = int(min_area)
        self.connectivity = connectivity

    def __call__(self, mask: np.ndarray | torch.Tensor, labels: int | Sequence[int] | None = None):
        """``labels`` overrides the constructor's for this call (e.g. the item's pathology per channel)."""
        m = to_numpy(mask)
        if m.ndim != 3:
            raise ValueError(f"MaskToBox expects a channel-first mask (C, W, H), got shape {tuple(m.shape)}.")
        per_channel = self.labels if labels is None else labels
        if isinstance(per_channel, (int, np.integer)):
            per_channel = [int(per_channel)] * m.shape[0]
        per_channel = [int(v) for v in per_channel]
        if len(per_channel) != m.shape[0]:
            raise ValueError(
                f"got {len(per_channel)} labels {per_channel} for a mask with {m.shape[0]} channels (shape "
                f"{tuple(m.shape)}); give one label per channel or one int."
            )
        boxes, classes = [], []
        for c in range(m.shape[0]):
            comps = components(binarize(m[c], self.threshold), self.connectivity)
            comps = comps[comps[:, 4] >= self.min_area]
            comps = comps[np.lexsort((comps[:, 2], comps[:, 0]))]  # stable order: by x_min, then y_min
            boxes.append(comps[:, [0, 2, 1, 3]])
            classes.append(np.full(len(comps), per_channel[c], dtype=np.int64))
        box_np = np.concatenate(boxes).astype(np.float32).reshape(-1, 4)
        lab_np = np.concatenate(classes).astype(np.int64)
        if isinstance(mask, torch.Tensor):
            return torch.as_tensor(box_np), torch.as_tensor(lab_np)
        return box_np, lab_np


class MaskToBoxd(MapTransform):
    """Dictionary twin of :class:`MaskToBox`: ``d[box_key], d[label_key] = MaskToBox(...)(d[mask_key])``.

    Args:
        mask_key: the mask (one channel, or a stack of an image's abnormality masks).
        box_key, label_key: where to write the boxes and their labels.
        class_key: optional item key giving the labels: an int, a string, or one per mask channel (e.g. the image
            level's ``pathologies``); strings go through ``class_map``.
        class_map: string -> int, e.g. ``{"MALIGNANT": 1, "BENIGN": 0, "BENIGN_WITHOUT_CALLBACK": 0}``.
        image_key: when given and present, the mask's spatial shape must equal this image's.
        labels, threshold, min_area, connectivity: as for :class:`MaskToBox` (``labels`` is used without
            ``class_key``).

    Raises:
        ValueError: naming the keys, for a mask whose size differs from the image or a label count that does not
            match the channels; KeyError for a class string missing from ``class_map``.

    Example:
        >>> import numpy as np
        >>> m = np.zeros((1, 10, 8), np.uint8); m[0, 1:3, 2:5] = 255
        >>> out = MaskToBoxd("mask", class_key="malignant")({"mask": m, "malignant": 1})
        >>> out["box"].tolist(), out["box_label"].tolist()
        ([[1.0, 2.0, 3.0, 5.0]], [1])
    """

    backend = MaskToBox.backend

    def __init__(
        self,
        mask_key: str = "mask",
        box_key: str = "box",
        label_key: str = "box_label",
        class_key: str | None = None,
        class_map: Mapping[str, int] | None = None,
        image_key: str | None = "image",
        labels: int | Sequence[int] = 1,
        threshold: float | None = None,
        min_area: int = 1,
        connectivity: int = 8,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(mask_key, allow_missing_keys)
        self.mask_key, self.box_key, self.label_key = mask_key, box_key, label_key
        self.class_key, self.class_map = class_key, dict(class_map or {})
        self.image_key = image_key
        self.converter = MaskToBox(labels, threshold, min_area, connectivity)

    def _labels(self, d: Mapping) -> int | list[int] | None:
        if self.class_key is None:
            return None
        value = d[self.class_key]
        values = list(value) if isinstance(value, (list, tuple, np.ndarray, torch.Tensor)) else [value]
        out = []
        for v in values:
            if isinstance(v, str):
                if v not in self.class_map:
                    raise KeyError(
                        f"MaskToBoxd: class {v!r} from key '{self.class_key}' is not in class_map {self.class_map}."
                    )
                v = self.class_map[v]
            out.append(int(v))
        return out[0] if len(out) == 1 and not isinstance(value, (list, tuple)) else out

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            if self.image_key is not None and self.image_key in d:
                check_spatial_shapes(type(self).__name__, d, [key], self.image_key, "mask", "image ")
            boxes, labels = keyed_errors(type(self).__name__, key, self.converter, d[key], self._labels(d))
            d[self.box_key], d[self.label_key] = boxes, labels
        return d
