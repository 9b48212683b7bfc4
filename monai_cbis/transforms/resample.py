"""Anti-aliased resampling of 2-D numpy arrays: the kernel of :class:`~monai_cbis.transforms.FastResize` (and of the
small proxy :class:`~monai_cbis.transforms.CropBreast` thresholds).

Shrinking averages areas, enlarging interpolates linearly; the geometry is MONAI ``Resize``'s with
``align_corners=False``, so an inverse through MONAI lines up exactly. See :func:`resample_2d` for the speed trick
(integer blocks on the native dtype, then banded sparse weights) that makes a full 16-bit mammogram cost a few ms.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import cv2
import numpy as np
import scipy.sparse as _sparse

from .views import cv_view, from_cv, value_range

__all__ = ["resample_2d", "proxy_shape"]


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

    Raises:
        ValueError: an empty input or output shape.

    Example:
        >>> import numpy as np
        >>> out = resample_2d(np.arange(16, dtype=np.float32).reshape(4, 4), (2, 2))
        >>> out.tolist(), str(out.dtype)
        ([[2.5, 4.5], [10.5, 12.5]], 'float32')
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


def proxy_shape(shape: Sequence[int], max_side: int) -> tuple[int, ...]:
    """A shape with the same aspect whose longest side is at most ``max_side`` (every side divided by one integer
    step, rounded up).

    Example:
        >>> proxy_shape((3000, 5000), 512)
        (300, 500)
    """
    step = max(1, math.ceil(max(shape) / max_side))
    return tuple(max(1, -(-int(s) // step)) for s in shape)
