"""Contrast and noise: :class:`CLAHE` and :class:`MedianFilter` with OpenCV fast paths.

Both papers enhance with CLAHE (Contrast-Limited Adaptive Histogram Equalization) and paper A median-filters
"to remove the salt and pepper noise". scikit-image's ``equalize_adapthist`` takes about 1.5 s on a full 16-bit
mammogram and OpenCV's CLAHE about 0.03 s; MONAI's ``MedianSmooth`` takes tens of milliseconds even at 224 x 224
where OpenCV's ``medianBlur`` takes microseconds. So both transforms run OpenCV and keep a pure scikit-image / SciPy
path (``library="skimage"`` / ``library="scipy"``) that computes the same thing.

The library is chosen with ``library=``; the old keyword ``backend=`` still works with a ``DeprecationWarning``
(it shadowed MONAI's ``backend`` class attribute, the list of tensor types a transform accepts).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence

import cv2
import numpy as np
import torch
from monai.config import KeysCollection
from monai.data.meta_obj import get_track_meta
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends, convert_to_dst_type, convert_to_tensor, ensure_tuple_rep
from scipy import ndimage
from skimage import exposure

from .checks import check_single_channel, keyed_errors
from .views import cv_view, from_cv, to_numpy, value_range

__all__ = ["CLAHE", "CLAHEd", "MedianFilter", "MedianFilterd"]

_CLAHE_LIBRARIES = ("opencv", "skimage")
_MEDIAN_LIBRARIES = ("opencv", "scipy")


def _library(name: str, library: str, backend: str | None, allowed: Sequence[str]) -> str:
    """``library``, or the deprecated ``backend`` keyword's value (with a DeprecationWarning); checked."""
    if backend is not None:
        warnings.warn(
            f"{name}(backend=...) is deprecated, use library={backend!r}: `backend` is MONAI's class attribute "
            "listing the tensor types a transform accepts.",
            DeprecationWarning,
            stacklevel=3,
        )
        library = backend
    if library not in allowed:
        raise ValueError(f"Unsupported library: {library!r}, available options are {list(allowed)}.")
    return library


class CLAHE(Transform):
    """Contrast-limited adaptive histogram equalisation of a one-channel image; returns float32 in ``[0, 1]``.

    The input is first mapped to ``[0, 1]`` by its own minimum and maximum (or by ``value_range``) and quantised to
    ``nbins`` grey levels, so uint8, uint16 and float images of the same picture give the same result. Parameters
    follow OpenCV: ``clip_limit`` is a multiple of the mean histogram height per tile (2.0 is OpenCV's common
    choice; larger values equalise more) and ``tile_grid_size`` counts the tiles along spatial axes 0 and 1. The
    scikit-image path is given the equivalent ``kernel_size`` and ``clip_limit / nbins``; the two libraries agree
    to about 0.03 (mean absolute difference on a [0, 1] scale; they interpolate between tiles differently).

    With ``nbins`` above 256 OpenCV's 16-bit CLAHE is used with the levels spread over its 65,536 bins and the clip
    limit scaled to match, so it behaves as an ``nbins``-level CLAHE (as is, OpenCV's 16-bit mode computes the limit
    over 65,536 bins, 16 times tighter than asked on 12-bit data). More bins only pay off with large tiles (CLAHE on
    the full film): a tile needs several pixels per bin.

    Bad input: a constant image (all zero, for example) has no contrast to equalise and gives all zeros, without
    warning; an image with more than one channel raises a ``ValueError`` showing its shape.

    Args:
        clip_limit: contrast limit, OpenCV convention (> 0).
        tile_grid_size: tiles along spatial axes 0 (x) and 1 (y); an int is used for both.
        nbins: grey levels of the histograms, 2 to 65,536 (256 by default).
        value_range: ``(low, high)`` mapped to 0 and 1 instead of the image's own min and max (values outside are
            clipped), e.g. ``(0, 4095)`` for every 12-bit image alike.
        library: ``"opencv"`` (default) or ``"skimage"``.
        backend: deprecated name of ``library``.

    Example:
        >>> import numpy as np
        >>> img = np.random.default_rng(0).integers(0, 4096, (1, 64, 96)).astype(np.uint16)
        >>> out = CLAHE(clip_limit=2.0, tile_grid_size=8)(img)
        >>> tuple(out.shape), str(out.dtype), float(out.min()) >= 0, float(out.max()) <= 1
        ((1, 64, 96), 'torch.float32', True, True)
    """

    backend = [TransformBackends.NUMPY]

    def __init__(
        self,
        clip_limit: float = 2.0,
        tile_grid_size: int | Sequence[int] = 8,
        nbins: int = 256,
        value_range: Sequence[float] | None = None,
        library: str = "opencv",
        *,
        backend: str | None = None,
    ) -> None:
        self.library = _library("CLAHE", library, backend, _CLAHE_LIBRARIES)
        if clip_limit <= 0:
            raise ValueError(f"clip_limit must be > 0 (OpenCV convention, 2.0 is typical), got {clip_limit}.")
        self.tile_grid_size = tuple(int(t) for t in ensure_tuple_rep(tile_grid_size, 2))
        if min(self.tile_grid_size) < 1:
            raise ValueError(f"tile_grid_size must be >= 1 along both axes, got {tile_grid_size}.")
        if not 2 <= int(nbins) <= 65536:
            raise ValueError(f"nbins must be between 2 and 65536, got {nbins}.")
        if value_range is not None and (len(value_range) != 2 or float(value_range[1]) <= float(value_range[0])):
            raise ValueError(f"value_range must be (low, high) with high > low, got {value_range}.")
        self.clip_limit = float(clip_limit)
        self.nbins = int(nbins)
        self.value_range = None if value_range is None else (float(value_range[0]), float(value_range[1]))

    def __call__(self, img: np.ndarray | torch.Tensor) -> torch.Tensor:
        img_t = convert_to_tensor(img, track_meta=get_track_meta())
        check_single_channel(img_t, "CLAHE")
        a = to_numpy(img_t)[0]
        lo, hi = self.value_range if self.value_range is not None else value_range(a)
        if hi <= lo:  # constant image: nothing to equalise
            out = np.zeros(a.shape, dtype=np.float32)
        elif self.library == "opencv":
            out = self._opencv(a, lo, hi)
        else:
            out = self._skimage(a, lo, hi)
        return convert_to_dst_type(out[None], dst=img_t, dtype=torch.float32)[0]

    def _levels(self, a: np.ndarray, lo: float, hi: float, top: int) -> np.ndarray:
        """``a`` mapped from ``[lo, hi]`` onto ``nbins`` integer levels spread over ``[0, top]``."""
        if top == 255 and self.nbins == 256:  # one SIMD pass: saturate(|a * alpha + beta|), no float copy
            alpha = 255.0 / (hi - lo)
            clipped = a if self.value_range is None else np.clip(a, lo, hi)
            v, t = cv_view(clipped)
            return from_cv(cv2.convertScaleAbs(v, alpha=alpha, beta=-lo * alpha), t)
        norm = np.clip((a.astype(np.float32) - lo) / (hi - lo), 0.0, 1.0)
        levels = np.rint(norm * (self.nbins - 1))
        return np.rint(levels * (top / (self.nbins - 1))).astype(np.uint8 if top == 255 else np.uint16)

    def _opencv(self, a: np.ndarray, lo: float, hi: float) -> np.ndarray:
        top = 255 if self.nbins <= 256 else 65535
        q = self._levels(a, lo, hi, top)
        v, transposed = cv_view(q)
        t0, t1 = self.tile_grid_size
        grid = (t0, t1) if transposed else (t1, t0)  # OpenCV wants (tiles across columns, tiles down rows)
        clahe = cv2.createCLAHE(clipLimit=self.clip_limit * (top + 1) / self.nbins, tileGridSize=grid)
        out = clahe.apply(np.ascontiguousarray(v))
        return from_cv(out.astype(np.float32) / np.float32(top), transposed)

    def _skimage(self, a: np.ndarray, lo: float, hi: float) -> np.ndarray:
        norm = np.clip((a.astype(np.float64) - lo) / (hi - lo), 0.0, 1.0)
        kernel = [max(1, -(-s // t)) for s, t in zip(a.shape, self.tile_grid_size, strict=True)]
        out = exposure.equalize_adapthist(
            norm, kernel_size=kernel, clip_limit=self.clip_limit / self.nbins, nbins=self.nbins
        )
        return out.astype(np.float32)


class CLAHEd(MapTransform):
    """Dictionary twin of :class:`CLAHE` (same arguments, applied to each key).

    Example:
        >>> import numpy as np
        >>> out = CLAHEd("image", clip_limit=2.0, tile_grid_size=(8, 8))({"image": np.zeros((1, 32, 32), np.uint16)})
        >>> float(out["image"].max())  # all-zero image: all zeros
        0.0
    """

    backend = CLAHE.backend

    def __init__(
        self,
        keys: KeysCollection,
        clip_limit: float = 2.0,
        tile_grid_size: int | Sequence[int] = 8,
        nbins: int = 256,
        value_range: Sequence[float] | None = None,
        library: str = "opencv",
        allow_missing_keys: bool = False,
        *,
        backend: str | None = None,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        library = _library(type(self).__name__, library, backend, _CLAHE_LIBRARIES)
        self.clahe = CLAHE(clip_limit, tile_grid_size, nbins, value_range, library)

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = keyed_errors(type(self).__name__, key, self.clahe, d[key])
        return d


class MedianFilter(Transform):
    """Median filter with a square ``(2 radius + 1)`` window (a cube in 3-D), each channel on its own, edges
    replicated.

    The result equals ``scipy.ndimage.median_filter(mode="nearest")`` and scikit-image's ``filters.median`` with a
    square footprint (what paper A ran). OpenCV's ``medianBlur`` does the work on 2-D images for uint8 (any radius)
    and for uint16 / float32 with radius 1 or 2; other cases, or ``library="scipy"``, use SciPy. MONAI's
    ``MedianSmooth`` gives the same values but takes about 40 ms on a 224 x 224 image here, against 0.03 ms, which is
    why this exists. Like ``MedianSmooth``, a channel-first image with more spatial axes, ``(C, W, H, D)``, is
    filtered over all of them at once (SciPy); a 2-D array without a channel axis is filtered as one image.

    Args:
        radius: half-width of the window (1 -> 3 x 3).
        library: ``"opencv"`` (fast path where possible, default) or ``"scipy"``.
        backend: deprecated name of ``library``.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((1, 5, 5), np.float32); img[0, 2, 2] = 1.0  # one "salt" pixel
        >>> float(MedianFilter(radius=1)(img).max())
        0.0
    """

    backend = [TransformBackends.NUMPY]

    def __init__(self, radius: int = 1, library: str = "opencv", *, backend: str | None = None) -> None:
        self.library = _library("MedianFilter", library, backend, _MEDIAN_LIBRARIES)
        if int(radius) < 0:
            raise ValueError(f"radius must be >= 0, got {radius}.")
        self.radius = int(radius)

    def _filter(self, a: np.ndarray) -> np.ndarray:
        """One channel, any number of spatial axes."""
        k = 2 * self.radius + 1
        if self.library == "opencv" and a.ndim == 2:
            v, t = cv_view(a)  # narrows MONAI's int32 (from uint16) back to uint16
            if v.dtype == np.uint8 or (v.dtype in (np.uint16, np.float32) and k <= 5):
                return from_cv(cv2.medianBlur(np.ascontiguousarray(v), k), t).astype(a.dtype, copy=False)
        return ndimage.median_filter(a, size=k, mode="nearest")

    def __call__(self, img: np.ndarray | torch.Tensor) -> torch.Tensor:
        img_t = convert_to_tensor(img, track_meta=get_track_meta())
        a = to_numpy(img_t)
        if a.ndim < 2:
            raise ValueError(
                f"MedianFilter expects a channel-first image (C, W, H) or (C, W, H, D), got shape {tuple(a.shape)}."
            )
        if self.radius == 0:
            return img_t
        channels = a[None] if a.ndim == 2 else a
        out = np.stack([self._filter(channels[c]) for c in range(channels.shape[0])]).reshape(a.shape)
        return convert_to_dst_type(out, dst=img_t, dtype=out.dtype)[0]


class MedianFilterd(MapTransform):
    """Dictionary twin of :class:`MedianFilter` (same arguments, applied to each key).

    Example:
        >>> import numpy as np
        >>> out = MedianFilterd("image", radius=1)({"image": np.ones((1, 8, 8), np.float32)})
        >>> float(out["image"].mean())
        1.0
    """

    backend = MedianFilter.backend

    def __init__(
        self,
        keys: KeysCollection,
        radius: int = 1,
        library: str = "opencv",
        allow_missing_keys: bool = False,
        *,
        backend: str | None = None,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        library = _library(type(self).__name__, library, backend, _MEDIAN_LIBRARIES)
        self.filter = MedianFilter(radius, library)

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = keyed_errors(type(self).__name__, key, self.filter, d[key])
        return d
