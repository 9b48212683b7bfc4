"""Helpers shared by the transforms: array views for OpenCV, channel checks, the mask threshold rule, resampling.

Axis convention (the same as MONAI's PIL, pydicom and ITK readers): a 2-D image is a channel-first array of shape
``(C, W, H)``; spatial axis 0 is x (image columns, left to right) and spatial axis 1 is y (image rows, top to
bottom). An image with ``rows x columns`` pixels is therefore an array of shape ``(C, columns, rows)``. OpenCV works
on ``(rows, columns)`` arrays, so :func:`cv_view` hands OpenCV the transposed view, which costs no copy because the
reader keeps the decoded buffer and only swaps the strides.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Sequence

import cv2
import numpy as np
import scipy.sparse as _sparse
import torch

__all__ = [
    "cv_view",
    "from_cv",
    "to_numpy",
    "check_single_channel",
    "half_range_threshold",
    "resample_2d",
    "value_range",
    "keyed_errors",
    "foreground_bbox",
    "components",
    "spatial_shape",
    "proxy_shape",
]

# dtypes OpenCV's resize / minMaxLoc / medianBlur accept without conversion
_CV_DTYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64)


def to_numpy(img: np.ndarray | torch.Tensor) -> np.ndarray:
    """A numpy view of ``img`` (no copy for numpy arrays and CPU tensors, MetaTensor included)."""
    if isinstance(img, torch.Tensor):
        t = img.as_tensor() if hasattr(img, "as_tensor") else img
        return t.detach().cpu().numpy()
    return np.asarray(img)


def _narrow(a: np.ndarray) -> np.ndarray:
    """An OpenCV-friendly copy of an array of another dtype (see :func:`cv_view`)."""
    if np.issubdtype(a.dtype, np.integer) and a.size:
        if a.dtype == np.int32:
            lo, hi, _, _ = cv2.minMaxLoc(a if a.strides[-1] == 4 else np.ascontiguousarray(a))
        else:
            lo, hi = float(a.min()), float(a.max())
        if lo >= 0 and hi <= 65535:
            return a.astype(np.uint16)
        if lo >= -32768 and hi <= 32767:
            return a.astype(np.int16)
    return a.astype(np.float32)


def cv_view(a: np.ndarray) -> tuple[np.ndarray, bool]:
    """Return ``(v, transposed)``: a 2-D view OpenCV reads without copying, and whether it is ``a.T``.

    OpenCV needs the last axis contiguous; a transposed view qualifies through its transpose. Arrays with neither
    axis contiguous are copied. Dtypes OpenCV lacks are converted: integers that fit to uint16 / int16 (e.g. the
    int32 MONAI makes of 16-bit films with values above 32767), anything else to float32.
    """
    if a.dtype == np.bool_:
        a = a.view(np.uint8)
    elif a.dtype.type not in _CV_DTYPES:
        a = _narrow(a)
    item = a.itemsize
    if a.strides[1] == item and a.strides[0] > 0:
        return a, False
    if a.strides[0] == item and a.strides[1] > 0:
        return a.T, True
    return np.ascontiguousarray(a), False


def from_cv(v: np.ndarray, transposed: bool) -> np.ndarray:
    """Undo :func:`cv_view`'s transpose on an OpenCV result."""
    return v.T if transposed else v


def check_single_channel(img: np.ndarray | torch.Tensor, name: str) -> None:
    """Raise a ValueError naming the transform when ``img`` is not a one-channel ``(1, W, H)`` image."""
    shape = tuple(img.shape)
    if len(shape) != 3 or shape[0] != 1:
        raise ValueError(
            f"{name} expects a single-channel 2-D image of shape (1, W, H), got shape {shape}. Load grey images "
            "(CBISImageReader reduces equal RGB channels to one), or select one channel first, "
            "e.g. monai.transforms.SplitDim or img[:1]."
        )


def value_range(a: np.ndarray) -> tuple[float, float]:
    """``(min, max)`` of a 2-D array (OpenCV's fast path where the dtype allows)."""
    if a.size == 0:
        return 0.0, 0.0
    if a.dtype.type in _CV_DTYPES:
        v, _ = cv_view(a)
        lo, hi, _, _ = cv2.minMaxLoc(v)
        return float(lo), float(hi)
    return float(np.min(a)), float(np.max(a))


def half_range_threshold(max_value: float) -> float:
    """The default mask threshold: half the range the mask's values were written in.

    ``max <= 1`` -> 0.5 (masks already in {0, 1}, probabilities); ``max <= 255`` -> 127.5 (8-bit masks: CBIS-DDSM's
    0/255 DICOM masks, and the Kaggle JPEG masks whose compression noise stays far below 128); larger -> ``max / 2``
    (16-bit masks written as 0/65535 or 0/4095). An all-zero mask gets 0.5, so it stays empty.
    """
    if max_value <= 1:
        return 0.5
    if max_value <= 255:
        return 127.5
    return max_value / 2.0


def _axis_weights(edges: np.ndarray, n: int, m: int) -> np.ndarray:
    """Weights (m, len(edges) - 1) mapping block means to ``m`` output samples along one axis of length ``n``.

    Shrinking (``m <= n``): output ``j`` averages the input interval ``[j n/m, (j+1) n/m)``; a block contributes in
    proportion to its overlap (exact area averaging when blocks are single pixels). Enlarging: linear interpolation
    between pixel centres, with half-pixel centres and clamped edges (OpenCV INTER_LINEAR, torch ``bilinear`` with
    ``align_corners=False``).
    """
    nb = len(edges) - 1
    w = np.zeros((m, nb), dtype=np.float64)
    if m <= n:
        s = n / m
        lo = np.arange(m) * s
        hi = lo + s
        starts, ends = edges[:-1], edges[1:]
        overlap = np.minimum(hi[:, None], ends[None, :]) - np.maximum(lo[:, None], starts[None, :])
        w = np.clip(overlap, 0.0, None) / s
    else:  # enlarging: the blocks are single pixels
        x = np.clip((np.arange(m) + 0.5) * (n / m) - 0.5, 0.0, n - 1)
        i0 = np.floor(x).astype(int)
        i1 = np.minimum(i0 + 1, n - 1)
        f = x - i0
        w[np.arange(m), i0] += 1.0 - f
        w[np.arange(m), i1] += f
    return w


def _block_edges(n: int, k: int) -> np.ndarray:
    """Edges of ``k``-pixel blocks along an axis of ``n`` pixels, the last block ragged."""
    q = n // k
    return np.append(np.arange(q + 1) * k, [n] if n - q * k else [])


@functools.lru_cache(maxsize=64)
def _axis_matrix(n: int, k: int, m: int) -> _sparse.csr_matrix:
    """Sparse ``(m, blocks)`` weights for an axis of ``n`` pixels in ``k``-pixel blocks resized to ``m``."""
    return _sparse.csr_matrix(_axis_weights(_block_edges(n, k), n, m).astype(np.float32))


def _block_means(v: np.ndarray, k0: int, k1: int) -> np.ndarray:
    """Means of ``k0 x k1`` blocks of a 2-D array (OpenCV's integer-factor area path), the ragged last row and
    column of blocks included (see :func:`_block_edges`)."""
    r, c = v.shape
    q0, q1 = r // k0, c // k1
    rem0, rem1 = r - q0 * k0, c - q1 * k1
    if k0 == 1 and k1 == 1:
        b = v.astype(np.float32)
    else:
        b = cv2.resize(v[: q0 * k0, : q1 * k1], (q1, q0), interpolation=cv2.INTER_AREA).astype(np.float32)
    if rem1:
        right = v[: q0 * k0, q1 * k1 :].astype(np.float32).mean(axis=1).reshape(q0, k0).mean(axis=1)
        b = np.concatenate([b, right[:, None]], axis=1)
    if rem0:
        bottom = v[q0 * k0 :, : q1 * k1].astype(np.float32).mean(axis=0).reshape(q1, k1).mean(axis=1)
        if rem1:
            bottom = np.append(bottom, v[q0 * k0 :, q1 * k1 :].astype(np.float32).mean())
        b = np.concatenate([b, bottom[None, :]], axis=0)
    return b


# largest first-stage grid of block means for the fast path
_MAX_BLOCKS = 4_000_000


def _stage1_factors(r: int, c: int, m0: int, m1: int) -> tuple[int, int] | None:
    """Integer block factors for the first stage (blocks of at most a quarter of an output pixel), or None when
    they would not reduce the image at least eight-fold or leave too many blocks (OpenCV's resize is then faster)."""
    k0, k1 = max(1, r // (4 * m0)), max(1, c // (4 * m1))
    if k0 * k1 < 8:
        return None
    if -(-r // k0) * -(-c // k1) > _MAX_BLOCKS:
        return None
    return k0, k1


def resample_2d(a: np.ndarray, out_shape: Sequence[int]) -> np.ndarray:
    """Anti-aliased resize of a 2-D array to ``out_shape``; returns float32.

    Shrinking averages areas, enlarging interpolates linearly (OpenCV INTER_LINEAR, torch ``bilinear`` with
    ``align_corners=False``); each axis is handled on its own, so a crop can shrink along one axis and grow along the
    other. Output pixel ``j`` along an axis of length ``n`` covers ``[j n/m, (j+1) n/m)`` of the input, the geometry
    MONAI's ``Resize`` records, so inverses line up exactly.

    Speed: a full mammogram is first averaged in integer ``k0 x k1`` blocks (OpenCV's SIMD path on the native
    dtype: no float copy of the full image), then the fractional area weights are applied to the block means as two
    sparse (banded) matrix products. Blocks are at most a quarter of an output pixel, so the averaging window is
    exact up to that block quantisation: a box filter widened by at most one block. When the image shrinks less
    than eight-fold, or grows along both axes, OpenCV's INTER_AREA / INTER_LINEAR run directly (same semantics).
    """
    v, transposed = cv_view(a)
    out = tuple(int(s) for s in out_shape)
    if transposed:
        out = out[::-1]
    r, c = v.shape
    m0, m1 = out
    if min(r, c, m0, m1) < 1:
        raise ValueError(f"cannot resize an array of shape {tuple(a.shape)} to {tuple(out_shape)}.")
    if (m0, m1) == (r, c):
        return from_cv(v.astype(np.float32), transposed)
    scale = 1.0
    if np.issubdtype(v.dtype, np.integer):
        # OpenCV rounds averages to the integer dtype: spread small value ranges (e.g. {0, 1} masks) first
        _, hi = value_range(v)
        if 0 < hi < 64:
            scale = float(np.iinfo(v.dtype).max // int(hi))
            v = cv2.multiply(v, scale) if v.dtype != np.uint8 else cv2.LUT(v, _ramp_lut(scale))
    if (m0 >= r) == (m1 >= c):  # same direction on both axes: OpenCV's own resize has these exact semantics
        factors = _stage1_factors(r, c, m0, m1) if m0 < r else None
        if factors is None:
            res = cv2.resize(v, (m1, m0), interpolation=cv2.INTER_AREA if m0 <= r else cv2.INTER_LINEAR)
            return from_cv(res.astype(np.float32) / np.float32(scale), transposed)
    else:  # shrinking along one axis, enlarging along the other: weight matrices, blocks on the shrinking axis
        factors = (max(1, r // (4 * m0)), max(1, c // (4 * m1)))
    k0, k1 = factors
    b = _block_means(v, k0, k1)
    # the weights are banded (a few blocks per output sample): sparse products, single-threaded and tiny
    res = np.asarray((_axis_matrix(c, k1, m1) @ (_axis_matrix(r, k0, m0) @ b).T).T)
    if scale != 1.0:
        res /= scale
    return from_cv(res.astype(np.float32, copy=False), transposed)


def _ramp_lut(scale: float) -> np.ndarray:
    return np.clip(np.arange(256) * scale, 0, 255).astype(np.uint8)


def keyed_errors(transform_name: str, key: Hashable, fn: Callable, *args, **kwargs):
    """Call ``fn``; re-raise a ValueError with the transform name and the data key in front of its message."""
    try:
        return fn(*args, **kwargs)
    except ValueError as e:
        raise ValueError(f"{transform_name}: key '{key}': {e}") from e


def ceil_div(a: int, b: int) -> int:
    """Integer ceiling of ``a / b``."""
    return -(-a // b)


def proxy_shape(shape: Sequence[int], max_side: int) -> tuple[int, ...]:
    """A shape with the same aspect whose longest side is at most ``max_side``."""
    step = max(1, math.ceil(max(shape) / max_side))
    return tuple(max(1, ceil_div(int(s), step)) for s in shape)


def foreground_bbox(a: np.ndarray, threshold: float) -> tuple[int, int, int, int] | None:
    """Bounding box ``(start0, end0, start1, end1)`` (ends exclusive, spatial axes 0 and 1) of ``a > threshold``,
    or None when nothing exceeds it. Two OpenCV max-reductions, so a full-size mask costs a few milliseconds."""
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
    (ends exclusive, spatial axes 0 and 1), largest area first."""
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


def spatial_shape(img) -> tuple[int, ...]:
    """Spatial shape of a channel-first image (pending shape for a lazy MetaTensor)."""
    if hasattr(img, "peek_pending_shape"):
        return tuple(int(s) for s in img.peek_pending_shape())
    return tuple(int(s) for s in img.shape[1:])
