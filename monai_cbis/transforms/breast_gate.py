"""Post-processing that removes findings outside the breast: a lesion cannot lie in the film's background.

A localising model can mark the background (a blob beside the scanner label, say). :class:`GateByBreast` zeroes a
prediction map outside the breast region of its input image, and :func:`boxes_in_breast` keeps the boxes whose
centre lies inside it. The breast is what :class:`~monai_cbis.transforms.CropBreast` finds (Otsu's threshold on a
shrunk copy, the largest bright component): the same rule, not a second copy of it. The region is, by default, the
breast's **outline** (that component, its holes filled, grown by ``margin``: :func:`breast_mask`); ``region="box"``
takes its bounding box instead (what ``CropBreast`` crops to), which keeps a scanner label that lies inside the box:
on MLO films the breast and pectoral muscle span the film's height, and the synthetic full-size films put the label
beside the narrow top or bottom of the breast, inside its box (``tests/transforms/test_breast_gate_full_film.py``).
The dictionary twins record what they removed under ``count_key`` (``removed_pixels`` and ``removed_components``
of the prediction above ``threshold``; ``removed_boxes`` for boxes), which the report handlers add up into
``metrics.json`` and the inference log; ``enabled=False`` (the bundles' ``--gate_by_breast false``) passes the data
through and records nothing.

The prediction and the image must share their grid (both before ``Invertd``, or both after it).

Example:
    >>> import numpy as np
    >>> img = np.zeros((1, 60, 40), np.float32); img[0, :30] = 1.0         # breast along x < 30
    >>> pred = np.zeros((1, 60, 40), np.float32); pred[0, 5:9, 5:9] = 1; pred[0, 50:55, 30:35] = 1
    >>> out = GateByBreastd(keys="pred")({"image": img, "pred": pred})
    >>> int(out["pred"].sum()), out["breast_gate"]
    (16, {'removed_pixels': 25, 'removed_components': 1})
    >>> boxes_in_breast(np.array([[5, 5, 9, 9], [50, 30, 55, 35]]), img).tolist()
    [True, False]
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import cv2
import numpy as np
import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends, convert_to_dst_type
from scipy import ndimage

from .crop import CropBreast
from .views import to_numpy

__all__ = [
    "GateByBreast",
    "GateByBreastd",
    "breast_box",
    "breast_mask",
    "breast_region",
    "boxes_in_breast",
    "GateBoxesByBreastd",
    "total_removed",
    "REGIONS",
]

#: What the gates keep: the breast's outline (default) or its bounding box.
REGIONS = ("outline", "box")


def _grey(image) -> np.ndarray:
    a = to_numpy(image).astype(np.float32, copy=False)
    if a.ndim != 3:
        raise ValueError(f"The breast gate expects a (C, W, H) image, got shape {a.shape}.")
    return a.mean(axis=0, keepdims=True) if a.shape[0] > 1 else a


def breast_box(image, margin: int | Sequence[int] = 0, proxy_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` of the breast region of ``image`` (``(C, ...)``; channels averaged), in spatial axes order,
    ends exclusive: :meth:`CropBreast.compute_box <monai_cbis.transforms.CropBreast.compute_box>`."""
    return CropBreast(margin, proxy_size).compute_box(_grey(image))


def breast_mask(image, margin: int | Sequence[int] = 0, proxy_size: int = 512) -> np.ndarray:
    """The breast's outline in ``image`` as a bool ``(W, H)`` mask: the component whose box :func:`breast_box`
    returns (found on the same shrunk copy), its holes filled (dark fatty tissue is breast too), grown by ``margin``
    pixels and brought back to the image's size (nearest). All True when no bright region is found (the same
    fall-back as the box: the whole image).

    Example:
        >>> img = np.zeros((1, 40, 40), np.float32); img[0, :20, :20] = 1; img[0, 5:8, 5:8] = 0  # a hole: kept
        >>> m = breast_mask(img); int(m.sum()), bool(m[6, 6]), bool(m[30, 30])
        (400, True, False)
    """
    crop = CropBreast(margin, proxy_size)
    shape, bw = crop.threshold_proxy(_grey(image))
    if bw is None or not bw.any():
        return np.ones(tuple(int(s) for s in shape), bool)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(np.ascontiguousarray(bw), connectivity=8)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))  # the first of the largest, as CropBreast takes it
    breast = ndimage.binary_fill_holes(labels == largest)
    grow = np.ceil(np.asarray(crop.margin) * np.asarray(bw.shape) / shape).astype(int)
    if grow.any():
        breast = ndimage.binary_dilation(breast, np.ones(tuple(2 * grow + 1), bool))
    full = cv2.resize(breast.astype(np.uint8), (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_NEAREST)
    return full > 0


def breast_region(image, region: str = "outline", margin: int | Sequence[int] = 0, proxy_size: int = 512):
    """The bool ``(W, H)`` mask a gate keeps: :func:`breast_mask` (``"outline"``) or the :func:`breast_box`
    (``"box"``)."""
    if region == "outline":
        return breast_mask(image, margin, proxy_size)
    if region != "box":
        raise ValueError(f"Unsupported region: {region!r}, available options are {list(REGIONS)}.")
    start, end = breast_box(image, margin, proxy_size)
    inside = np.zeros(to_numpy(image).shape[1:], dtype=bool)
    inside[int(start[0]) : int(end[0]), int(start[1]) : int(end[1])] = True
    return inside


def boxes_in_breast(
    boxes, image=None, start=None, end=None, margin: int | Sequence[int] = 0, inside: np.ndarray | None = None
) -> np.ndarray:
    """Which of ``boxes`` (``(N, 4)``, MONAI's ``xyxy`` in the image's spatial axes order) have their centre in the
    breast: in ``inside`` (a bool mask, e.g. :func:`breast_region`), else in the box ``start`` / ``end``, else in
    the box of ``image`` (:func:`breast_box`). Returns a bool ``(N,)`` array.

    Raises:
        ValueError: boxes not of shape ``(N, 4)``, or neither an image nor a region.
    """
    b = to_numpy(boxes).astype(np.float64).reshape(-1, 4) if np.size(to_numpy(boxes)) else np.zeros((0, 4))
    centre = (b[:, :2] + b[:, 2:]) / 2.0
    if inside is not None:
        at = np.floor(centre).astype(np.int64)
        ok = np.all((at >= 0) & (at < np.asarray(inside.shape)), axis=1)
        keep = np.zeros(len(b), bool)
        keep[ok] = inside[at[ok, 0], at[ok, 1]]
        return keep
    if start is None or end is None:
        if image is None:
            raise ValueError("boxes_in_breast needs the image or the breast region (start, end).")
        start, end = breast_box(image, margin)
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    return np.all((centre >= start) & (centre < end), axis=1)


class GateByBreast(Transform):
    """Zero a prediction map outside the breast region of its image (see the module docstring).

    Args:
        margin: pixels added around the breast on every side (one value, or one per spatial axis).
        proxy_size: longest side of the copy the breast is found in.
        threshold: what counts as predicted lesion when counting what was removed.
        region: ``"outline"`` (default: the breast's outline) or ``"box"`` (its bounding box).

    Example:
        >>> import numpy as np
        >>> img = np.zeros((1, 20, 20), np.float32); img[0, :10] = 1
        >>> int(GateByBreast()(np.ones((1, 20, 20), np.float32), img).sum())
        200
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]  # computed on numpy, returned as the input type

    def __init__(
        self, margin: int | Sequence[int] = 0, proxy_size: int = 512, threshold: float = 0.5, region: str = "outline"
    ) -> None:
        CropBreast(margin, proxy_size)  # validates both
        if region not in REGIONS:
            raise ValueError(f"Unsupported region: {region!r}, available options are {list(REGIONS)}.")
        self.margin, self.proxy_size, self.threshold = margin, int(proxy_size), float(threshold)
        self.region_kind = region

    def region(self, image) -> np.ndarray:
        """The bool ``(W, H)`` mask of what the gate keeps in ``image`` (:func:`breast_region`)."""
        return breast_region(image, self.region_kind, self.margin, self.proxy_size)

    def gate(self, pred, start=None, end=None, inside: np.ndarray | None = None) -> tuple[object, dict]:
        """``pred`` zeroed outside ``inside`` (a bool mask), or outside the box ``[start, end)``, and
        ``{"removed_pixels", "removed_components"}``: the pixels above ``threshold`` that were zeroed, and the
        connected components (8-connected) above it that lay wholly outside."""
        p = to_numpy(pred)
        if p.ndim != 3:
            raise ValueError(f"GateByBreast expects a (C, W, H) prediction, got shape {p.shape}.")
        if inside is None:
            inside = np.zeros(p.shape[1:], dtype=bool)
            inside[int(start[0]) : int(end[0]), int(start[1]) : int(end[1])] = True
        lesion = (p >= self.threshold).any(axis=0)
        removed_pixels = int((lesion & ~inside).sum())
        removed_components = 0
        if removed_pixels:
            labels, n = ndimage.label(lesion, structure=np.ones((3, 3), bool))
            kept = np.bincount(labels[inside], minlength=n + 1)[1:]
            removed_components = int((kept == 0).sum())
        out = np.where(inside[None], p, np.zeros((), p.dtype))
        gated, *_ = convert_to_dst_type(out, dst=pred)
        return gated, {"removed_pixels": removed_pixels, "removed_components": removed_components}

    def __call__(self, pred, image):  # type: ignore[override]
        return self.gate(pred, inside=self.region(image))[0]


class _BreastGated(MapTransform):
    """What the dictionary gates share: the image key, the count key, the switch and the breast region's settings
    (Args as :class:`GateByBreastd`)."""

    def __init__(
        self,
        keys: KeysCollection,
        image_key: str,
        count_key: str | None,
        enabled: bool,
        margin: int | Sequence[int],
        proxy_size: int,
        region: str,
        allow_missing_keys: bool,
        threshold: float = 0.5,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.gater = GateByBreast(margin, proxy_size, threshold, region)
        self.image_key, self.count_key, self.enabled = image_key, count_key, bool(enabled)


class GateByBreastd(_BreastGated):
    """Dictionary twin of :class:`GateByBreast`: one breast region from ``image_key`` gates every key; what the first
    key lost is stored under ``count_key``.

    Args:
        keys: prediction keys to gate (e.g. ``["pred", "pred_prob"]``).
        image_key: the input image, on the predictions' grid.
        count_key: where ``{"removed_pixels", "removed_components"}`` goes (None: not recorded).
        enabled: False passes the data through unchanged (nothing recorded).
        margin, proxy_size, threshold, region: as for :class:`GateByBreast`.
        allow_missing_keys: skip prediction keys that are missing.
    """

    backend = GateByBreast.backend

    def __init__(
        self,
        keys: KeysCollection,
        image_key: str = "image",
        count_key: str | None = "breast_gate",
        enabled: bool = True,
        margin: int | Sequence[int] = 0,
        proxy_size: int = 512,
        threshold: float = 0.5,
        allow_missing_keys: bool = False,
        region: str = "outline",
    ) -> None:
        super().__init__(keys, image_key, count_key, enabled, margin, proxy_size, region, allow_missing_keys, threshold)

    def __call__(self, data: Mapping[Hashable, object]) -> dict:
        d = dict(data)
        if not self.enabled:
            return d
        inside = self.gater.region(d[self.image_key])
        counts = None
        for key in self.key_iterator(d):
            d[key], c = self.gater.gate(d[key], inside=inside)
            counts = c if counts is None else counts
        if self.count_key is not None and counts is not None:
            d[self.count_key] = counts
        return d


class GateBoxesByBreastd(_BreastGated):
    """Drop the predicted boxes whose centre lies outside the breast region of ``image_key`` (detectors).

    ``keys`` are the box key and the keys that run parallel to it (labels, scores): entry ``i`` of each is kept or
    dropped together. The number dropped goes to ``count_key`` as ``{"removed_boxes": n}``.

    Args:
        keys: ``[box_key, *parallel keys]``; the first is the ``(N, 4)`` boxes (MONAI ``xyxy``).
        image_key, count_key, enabled, margin, proxy_size, region, allow_missing_keys: as for :class:`GateByBreastd`.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((1, 60, 40), np.float32); img[0, :30] = 1.0
        >>> d = {"image": img, "box": np.array([[5, 5, 9, 9], [50, 30, 55, 35]]), "label": np.array([0, 1])}
        >>> out = GateBoxesByBreastd(["box", "label"])(d)
        >>> out["label"].tolist(), out["breast_gate"]
        ([0], {'removed_boxes': 1})
    """

    backend = GateByBreast.backend

    def __init__(
        self,
        keys: KeysCollection,
        image_key: str = "image",
        count_key: str | None = "breast_gate",
        enabled: bool = True,
        margin: int | Sequence[int] = 0,
        proxy_size: int = 512,
        allow_missing_keys: bool = False,
        region: str = "outline",
    ) -> None:
        super().__init__(keys, image_key, count_key, enabled, margin, proxy_size, region, allow_missing_keys)

    def __call__(self, data: Mapping[Hashable, object]) -> dict:
        d = dict(data)
        if not self.enabled:
            return d
        keys = list(self.key_iterator(d))
        if not keys:
            return d
        keep = boxes_in_breast(d[keys[0]], inside=self.gater.region(d[self.image_key]))
        index = np.flatnonzero(keep)
        for key in keys:
            value = d[key]
            if len(value) != len(keep):
                raise ValueError(f"GateBoxesByBreastd: {key!r} has {len(value)} entries, the boxes {len(keep)}.")
            d[key] = value[torch.as_tensor(index)] if isinstance(value, torch.Tensor) else value[index]
        if self.count_key is not None:
            d[self.count_key] = {"removed_boxes": int(len(keep) - len(index))}
        return d


def total_removed(counts) -> dict | None:
    """Add up the per-item records of the gates (``count_key`` values; None for an item without one) into
    ``{"images": n, "images_with_removals": k, <each count>: total}``, or None when no item was gated.

    Example:
        >>> total_removed([{"removed_pixels": 5, "removed_components": 1}, None, {"removed_pixels": 0,
        ...                "removed_components": 0}])
        {'images': 2, 'images_with_removals': 1, 'removed_pixels': 5, 'removed_components': 1}
    """
    gated = [c for c in counts if isinstance(c, Mapping)]
    if not gated:
        return None
    out = {"images": len(gated), "images_with_removals": sum(any(int(v) for v in c.values()) for c in gated)}
    for c in gated:
        for k, v in c.items():
            out[k] = out.get(k, 0) + int(v)
    return out
