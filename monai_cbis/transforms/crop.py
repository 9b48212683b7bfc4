"""Invertible crops of a mammogram: :class:`TrimBorder`, :class:`CropBreast` and :class:`CropByROI`.

All three are MONAI ``Crop`` subclasses: a crop is a view (no pixel copied), it moves the MetaTensor affine, it is
recorded in ``applied_operations``, and ``inverse`` pads back to the original grid with zeros, so a prediction made
on the crop lands on the original DICOM pixels (``monai.transforms.Invertd`` works as for ``CropForegroundd``). The
dictionary twins compute one box from a source key and cut every key with it, like ``CropForegroundd``.
Axes follow the package convention ``(C, W, H)``, spatial axis 0 = x (columns).

:class:`BoxCropd` is the dictionary crops' common base: like MONAI's ``CropForegroundd`` it reads the current
pixels (``requires_current_data``, so ``Compose(lazy=True)`` applies pending operations before the box is
computed) and its ``lazy`` flag reaches the cropper, so ``lazy=True`` really defers the crop.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import cv2
import numpy as np
import torch
from monai.config import KeysCollection
from monai.transforms import Crop, Cropd
from monai.utils import ensure_tuple_rep

from .boxes import components, foreground_bbox, grow_box
from .checks import check_single_channel, check_spatial_shapes, keyed_errors
from .masks import binarize, mask_threshold
from .resample import proxy_shape, resample_2d
from .views import spatial_shape, to_numpy, value_range

__all__ = ["TrimBorder", "TrimBorderd", "CropBreast", "CropBreastd", "CropByROI", "CropByROId", "BoxCropd"]

_ON_EMPTY = ("raise", "full")


def _box_slices(start: Sequence[int], end: Sequence[int]) -> tuple[slice, ...]:
    return tuple(slice(int(s), int(e)) for s, e in zip(start, end, strict=True))


class BoxCropd(Cropd):
    """Base of the dictionary crops whose box is computed from the data: every key is cut to one box, which is
    also stored under ``start_coord_key`` / ``end_coord_key``. As in MONAI's ``CropForegroundd``, the box needs
    the current pixels (``requires_current_data``: under ``Compose(lazy=True)`` pending operations are applied
    first) and ``lazy`` is passed on to the cropper. Subclasses compute the box and call :meth:`crop_to_box`.

    Args:
        keys: keys to crop; cropper: the array crop (its ``lazy`` follows this transform's);
        start_coord_key / end_coord_key: where to store the box (None to skip); allow_missing_keys, lazy: as for
        MONAI's ``Cropd``.
    """

    def __init__(
        self,
        keys: KeysCollection,
        cropper: Crop,
        start_coord_key: str | None,
        end_coord_key: str | None,
        allow_missing_keys: bool = False,
        lazy: bool = False,
    ) -> None:
        super().__init__(keys, cropper=cropper, allow_missing_keys=allow_missing_keys, lazy=lazy)
        self.start_coord_key, self.end_coord_key = start_coord_key, end_coord_key

    @property
    def requires_current_data(self) -> bool:
        return True

    def crop_to_box(self, d: dict, start, end, lazy: bool | None = None) -> dict:
        """Record ``[start, end)`` under the coordinate keys (when set) and crop every key of ``d`` to it
        (invertibly, lazily when ``lazy`` or, if None, ``self.lazy``); returns ``d``."""
        if self.start_coord_key is not None:
            d[self.start_coord_key] = start
        if self.end_coord_key is not None:
            d[self.end_coord_key] = end
        lazy_ = self.lazy if lazy is None else lazy
        slices = _box_slices(start, end)
        for key in self.key_iterator(d):
            d[key] = Crop.__call__(self.cropper, d[key], slices, lazy=lazy_)
        return d


class TrimBorder(Crop):
    """Remove a fraction of each edge (paper A: "a small percentage of the image on all sides", the film's white
    edges). The cut is ``round(size * fraction)`` pixels at both ends of each spatial axis.

    Args:
        fraction: one value for every edge, or one per spatial axis ``(x, y)``; each in ``[0, 0.5)``.
        lazy: MONAI lazy resampling flag.

    Example:
        >>> import numpy as np
        >>> trim = TrimBorder(0.1)
        >>> out = trim(np.zeros((1, 100, 50)))
        >>> tuple(out.shape), tuple(trim.inverse(out).shape)
        ((1, 80, 40), (1, 100, 50))
    """

    def __init__(self, fraction: float | Sequence[float] = 0.02, lazy: bool = False) -> None:
        super().__init__(lazy=lazy)
        fr = tuple(float(f) for f in ensure_tuple_rep(fraction, 2))
        if any(not 0.0 <= f < 0.5 for f in fr):
            raise ValueError(f"fraction must be in [0, 0.5) for each axis, got {fraction}.")
        self.fraction = fr

    def slices_for(self, shape: Sequence[int]) -> tuple[slice, ...]:
        """The crop slices for an image of spatial ``shape``."""
        cuts = [int(round(n * f)) for n, f in zip(shape, self.fraction, strict=True)]
        return tuple(slice(c, n - c) for n, c in zip(shape, cuts, strict=True))

    def __call__(self, img: torch.Tensor, lazy: bool | None = None) -> torch.Tensor:  # type: ignore[override]
        return super().__call__(img, self.slices_for(spatial_shape(img)), lazy=lazy)


class TrimBorderd(Cropd):
    """Dictionary twin of :class:`TrimBorder` (same ``fraction`` for every key; keys of equal size get the same cut).

    Example:
        >>> import numpy as np
        >>> item = {"image": np.zeros((1, 40, 60)), "label": np.zeros((1, 40, 60))}
        >>> out = TrimBorderd(["image", "label"], 0.05)(item)
        >>> tuple(out["label"].shape)
        (1, 36, 54)
    """

    def __init__(
        self,
        keys: KeysCollection,
        fraction: float | Sequence[float] = 0.02,
        allow_missing_keys: bool = False,
        lazy: bool = False,
    ) -> None:
        super().__init__(
            keys, cropper=TrimBorder(fraction, lazy=lazy), allow_missing_keys=allow_missing_keys, lazy=lazy
        )


class CropBreast(Crop):
    """Crop to the breast: the largest bright connected region after Otsu's threshold, plus a margin.

    Otsu runs on a copy shrunk to at most ``proxy_size`` pixels a side (so a full mammogram costs a few ms); a
    3 x 3 opening cuts thin bridges first. The background and any scanner label outside the breast's bounding box
    are dropped; a label *inside* the box stays (use :class:`TrimBorder` first, so the bright film edge does not join
    the breast). An image without any bright region (a constant image) is kept whole: a documented fall-back, the
    crop is still recorded so that ``inverse`` works the same way.

    Args:
        margin: pixels added on every side (one value, or one per spatial axis), clipped to the image.
        proxy_size: longest side of the copy that is thresholded.
        lazy: MONAI lazy resampling flag (the box is computed from the data).

    Raises:
        ValueError: an image with more than one channel.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((1, 200, 300), np.uint16); img[0, :80, 50:250] = 3000  # breast along x = 0
        >>> tuple(CropBreast(margin=0)(img).shape)
        (1, 80, 200)
    """

    def __init__(self, margin: int | Sequence[int] = 0, proxy_size: int = 512, lazy: bool = False) -> None:
        super().__init__(lazy=lazy)
        self.margin = tuple(int(m) for m in ensure_tuple_rep(margin, 2))
        if min(self.margin) < 0 or int(proxy_size) < 16:
            raise ValueError(f"margin must be >= 0 and proxy_size >= 16, got margin={margin}, proxy_size={proxy_size}.")
        self.proxy_size = int(proxy_size)

    @property
    def requires_current_data(self) -> bool:
        return True

    def threshold_proxy(self, img: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The image's spatial shape and, on the shrunk copy, the uint8 {0, 1} Otsu mask after the opening (None
        when the image has no bright region): what the breast is found in, here and by the breast gate."""
        check_single_channel(img, "CropBreast")
        a = to_numpy(img)[0]
        small = resample_2d(a, proxy_shape(a.shape, self.proxy_size))
        lo, hi = value_range(small)
        if hi <= lo:
            return np.asarray(a.shape), None
        u8 = np.ascontiguousarray(np.rint((small - lo) * (255.0 / (hi - lo))).astype(np.uint8))
        _, bw = cv2.threshold(u8, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return np.asarray(a.shape), cv2.morphologyEx(bw, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))

    def compute_box(self, img: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(start, end)`` of the breast box in the image's spatial coordinates (ends exclusive)."""
        shape, bw = self.threshold_proxy(img)
        if bw is None:
            return np.zeros(2, dtype=np.int64), shape.astype(np.int64)
        comps = components(bw)
        if len(comps) == 0:
            return np.zeros(2, dtype=np.int64), shape.astype(np.int64)
        s0, e0, s1, e1, _ = comps[0]
        f = shape / np.asarray(bw.shape)
        start = np.floor(np.array([s0, s1]) * f).astype(np.int64) - self.margin
        end = np.ceil(np.array([e0, e1]) * f).astype(np.int64) + self.margin
        return np.maximum(start, 0), np.minimum(end, shape)

    def __call__(self, img: torch.Tensor, lazy: bool | None = None) -> torch.Tensor:  # type: ignore[override]
        start, end = self.compute_box(img)
        return super().__call__(img, _box_slices(start, end), lazy=lazy)


class CropBreastd(BoxCropd):
    """Dictionary twin of :class:`CropBreast`: the box comes from ``source_key`` and cuts every key (image and label).

    Args:
        keys: keys to crop; source_key: the image the breast is found in; start_coord_key / end_coord_key: where
            to store the box (None to skip); other arguments as for :class:`CropBreast`.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((1, 200, 300), np.uint16); img[0, :80, 50:250] = 3000
        >>> out = CropBreastd(["image", "label"], source_key="image")({"image": img, "label": np.zeros_like(img)})
        >>> tuple(out["label"].shape), out["breast_start"].tolist()
        ((1, 80, 200), [0, 50])
    """

    def __init__(
        self,
        keys: KeysCollection,
        source_key: str = "image",
        margin: int | Sequence[int] = 0,
        proxy_size: int = 512,
        start_coord_key: str | None = "breast_start",
        end_coord_key: str | None = "breast_end",
        allow_missing_keys: bool = False,
        lazy: bool = False,
    ) -> None:
        cropper = CropBreast(margin, proxy_size, lazy=lazy)
        super().__init__(keys, cropper, start_coord_key, end_coord_key, allow_missing_keys, lazy)
        self.source_key = source_key

    def __call__(self, data: Mapping[Hashable, torch.Tensor], lazy: bool | None = None) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        start, end = keyed_errors(type(self).__name__, self.source_key, self.cropper.compute_box, d[self.source_key])
        check_spatial_shapes(type(self).__name__, d, self.key_iterator(d), self.source_key)
        return self.crop_to_box(d, start, end, lazy)


class CropByROI(Crop):
    """Paper B's lesion crop: the bounding box of the largest lesion in a mask, plus a margin, clipped to the image.

    The mask is binarised with the half-range rule (see :mod:`monai_cbis.transforms.masks`) unless ``threshold`` is
    given; several channels are united. "Largest" is the 8-connected component with the most pixels (paper B takes
    the largest external contour, the same region except for ring-shaped masks). Finding it costs two max-reductions
    over the full mask plus a labelling of the lesion's neighbourhood only.

    Args:
        margin: pixels added on every side (one value, or ``(x, y)``).
        min_size: grow the box (centred, shifted back inside the image) to at least this many pixels per axis;
            keeps context around a tiny calcification cluster. None: no minimum.
        square: grow the shorter side to the longer one (where the image allows), so that resizing the crop to a
            square does not distort it. Paper B resizes its (not square) crops to 512 x 512: False by default.
        threshold: lesion where the mask is above it; None: half-range rule.
        on_empty: what a mask with no lesion gets: ``"raise"`` (default, a ValueError with the shape and maximum)
            or ``"full"`` (keep the whole image, recorded as a crop so that ``inverse`` still applies).
        lazy: MONAI lazy resampling flag.

    Example:
        >>> import numpy as np
        >>> mask = np.zeros((1, 100, 80), np.uint8); mask[0, 40:50, 30:36] = 255
        >>> img = np.zeros((1, 100, 80), np.uint16)
        >>> tuple(CropByROI(margin=5)(img, roi=mask).shape)
        (1, 20, 16)
    """

    def __init__(
        self,
        margin: int | Sequence[int] = 0,
        min_size: int | Sequence[int] | None = None,
        square: bool = False,
        threshold: float | None = None,
        on_empty: str = "raise",
        lazy: bool = False,
    ) -> None:
        super().__init__(lazy=lazy)
        self.margin = np.asarray(ensure_tuple_rep(margin, 2), dtype=np.int64)
        self.min_size = None if min_size is None else np.asarray(ensure_tuple_rep(min_size, 2), dtype=np.int64)
        if self.margin.min() < 0 or (self.min_size is not None and self.min_size.min() < 1):
            raise ValueError(f"margin must be >= 0 and min_size >= 1, got margin={margin}, min_size={min_size}.")
        if on_empty not in _ON_EMPTY:
            raise ValueError(f"Unsupported on_empty: {on_empty!r}, available options are {list(_ON_EMPTY)}.")
        self.square = bool(square)
        self.threshold = threshold
        self.on_empty = on_empty

    @property
    def requires_current_data(self) -> bool:
        return True

    def compute_box(self, roi: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(start, end)`` of the crop in spatial coordinates (ends exclusive) for the ROI mask ``roi`` (C, W, H)."""
        m = to_numpy(roi)
        if m.ndim != 3:
            raise ValueError(f"the ROI mask must be channel-first (C, W, H), got shape {tuple(m.shape)}.")
        shape = np.asarray(m.shape[1:], dtype=np.int64)
        thresholds, boxes = [], []
        for c in range(m.shape[0]):
            t = mask_threshold(m[c], self.threshold)
            thresholds.append(t)
            boxes.append(foreground_bbox(m[c], t))
        found = [b for b in boxes if b is not None]
        if not found:
            if self.on_empty == "full":
                return np.zeros(2, dtype=np.int64), shape
            raise ValueError(
                f"the ROI mask has no lesion (shape {tuple(m.shape)}, maximum {float(m.max()):g}, threshold per "
                f"channel {[round(t, 2) for t in thresholds]}); pass on_empty='full' to keep the whole image instead."
            )
        s0, e0 = min(b[0] for b in found), max(b[1] for b in found)
        s1, e1 = min(b[2] for b in found), max(b[3] for b in found)
        region = np.zeros((e0 - s0, e1 - s1), dtype=np.uint8)
        for c, b in enumerate(boxes):
            if b is not None:
                region |= binarize(m[c, s0:e0, s1:e1], thresholds[c])
        a0, b0, a1, b1, _ = components(region)[0]
        lo, hi = np.array([s0 + a0, s1 + a1], dtype=np.int64), np.array([s0 + b0, s1 + b1], dtype=np.int64)
        return self.expand_box(lo, hi, shape)

    def expand_box(self, lo: np.ndarray, hi: np.ndarray, shape: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(start, end)`` of the crop for a lesion box ``[lo, hi)``: plus the margin and clipped to the image's
        spatial ``shape``, then squared and grown to ``min_size`` when asked (within the image)."""
        start, end = np.maximum(lo - self.margin, 0), np.minimum(hi + self.margin, shape)
        if self.square or self.min_size is not None:
            want = end - start
            if self.square:
                want = np.full(2, want.max())
            if self.min_size is not None:
                want = np.maximum(want, self.min_size)
            start, end = grow_box(start, end, np.minimum(want, shape), shape)
        return start, end

    def __call__(self, img: torch.Tensor, roi: torch.Tensor | np.ndarray | None = None, lazy: bool | None = None):  # type: ignore[override]
        """Crop ``img`` by the lesion in ``roi`` (the image itself when None, e.g. to crop a mask by itself)."""
        roi = img if roi is None else roi
        if spatial_shape(roi) != spatial_shape(img):
            raise ValueError(
                f"ROI mask shape {tuple(roi.shape)} does not match image shape {tuple(img.shape)} (spatial sizes "
                "must be equal)."
            )
        start, end = self.compute_box(roi)
        return super().__call__(img, _box_slices(start, end), lazy=lazy)


class CropByROId(BoxCropd):
    """Dictionary twin of :class:`CropByROI`: the box comes from ``roi_key`` and cuts every key (image and mask).

    Args:
        keys: keys to crop; roi_key: the lesion mask; start_coord_key / end_coord_key: where to store the box (None
            to skip); other arguments as for :class:`CropByROI`.

    Raises:
        ValueError: naming the key, when a key's spatial shape differs from the mask's, when the mask has no lesion
            (unless ``on_empty="full"``).

    Example:
        >>> import numpy as np
        >>> mask = np.zeros((1, 100, 80), np.uint8); mask[0, 40:50, 30:36] = 255
        >>> crop = CropByROId(["image", "mask"], roi_key="mask", margin=5)
        >>> out = crop({"image": np.zeros((1, 100, 80)), "mask": mask})
        >>> tuple(out["image"].shape), out["roi_start"].tolist(), out["roi_end"].tolist()
        ((1, 20, 16), [35, 25], [55, 41])
    """

    def __init__(
        self,
        keys: KeysCollection,
        roi_key: str = "mask",
        margin: int | Sequence[int] = 0,
        min_size: int | Sequence[int] | None = None,
        square: bool = False,
        threshold: float | None = None,
        on_empty: str = "raise",
        start_coord_key: str | None = "roi_start",
        end_coord_key: str | None = "roi_end",
        allow_missing_keys: bool = False,
        lazy: bool = False,
    ) -> None:
        cropper = CropByROI(margin, min_size, square, threshold, on_empty, lazy=lazy)
        super().__init__(keys, cropper, start_coord_key, end_coord_key, allow_missing_keys, lazy)
        self.roi_key = roi_key

    def __call__(self, data: Mapping[Hashable, torch.Tensor], lazy: bool | None = None) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        if self.roi_key not in d:
            raise KeyError(f"CropByROId: ROI key '{self.roi_key}' is not in the data (keys: {sorted(map(str, d))}).")
        check_spatial_shapes(type(self).__name__, d, self.key_iterator(d), self.roi_key)
        start, end = keyed_errors(type(self).__name__, self.roi_key, self.cropper.compute_box, d[self.roi_key])
        return self.crop_to_box(d, start, end, lazy)
