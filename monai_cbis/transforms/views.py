"""How the transforms look at their arrays without copying them: numpy views of tensors, the spatial shape of a
(possibly lazy) channel-first image, and the ``(rows, columns)`` views OpenCV needs.

Axis convention (the same as MONAI's PIL, pydicom and ITK readers): a 2-D image is a channel-first array of shape
``(C, W, H)``; spatial axis 0 is x (image columns, left to right) and spatial axis 1 is y (image rows, top to
bottom). An image with ``rows x columns`` pixels is therefore an array of shape ``(C, columns, rows)``. OpenCV works
on ``(rows, columns)`` arrays, so :func:`cv_view` hands OpenCV the transposed view, which costs no copy because the
reader keeps the decoded buffer and only swaps the strides.

MONAI's ``convert_to_numpy`` is not used here: it makes non-contiguous arrays contiguous (a copy of every full
film the reader hands over transposed) and it fails on bfloat16 tensors (CPU automatic mixed precision).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

__all__ = ["to_numpy", "spatial_shape", "cv_view", "from_cv", "value_range"]

# dtypes OpenCV's resize / minMaxLoc / medianBlur accept without conversion
_CV_DTYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64)


def to_numpy(x) -> np.ndarray:
    """A numpy view of ``x`` on the CPU, without gradient (no copy for arrays and CPU tensors, MetaTensor included).

    bfloat16 tensors, which numpy lacks, become float32 (a copy); anything else goes through ``np.asarray``.

    Example:
        >>> import torch
        >>> to_numpy(torch.ones(2, dtype=torch.bfloat16)).dtype, to_numpy([1, 2]).tolist()
        (dtype('float32'), [1, 2])
    """
    if isinstance(x, torch.Tensor):
        t = x.as_tensor() if hasattr(x, "as_tensor") else x
        t = t.detach().cpu()
        return (t.float() if t.dtype == torch.bfloat16 else t).numpy()
    return np.asarray(x)


def spatial_shape(img) -> tuple[int, ...]:
    """Spatial shape of a channel-first image (the pending shape for a lazy MetaTensor).

    Example:
        >>> import numpy as np
        >>> spatial_shape(np.zeros((1, 30, 20)))
        (30, 20)
    """
    if hasattr(img, "peek_pending_shape"):
        return tuple(int(s) for s in img.peek_pending_shape())
    return tuple(int(s) for s in img.shape[1:])


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

    Example:
        >>> import numpy as np
        >>> a = np.zeros((3, 4), np.uint16).T  # (W, H) = (4, 3), a transposed buffer
        >>> v, transposed = cv_view(a)
        >>> v.shape, transposed, np.shares_memory(v, a)
        ((3, 4), True, True)
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


def value_range(a: np.ndarray) -> tuple[float, float]:
    """``(min, max)`` of a 2-D array (OpenCV's fast path where the dtype allows); ``(0.0, 0.0)`` when empty.

    Example:
        >>> import numpy as np
        >>> value_range(np.array([[3, 250], [0, 7]], np.uint8))
        (0.0, 250.0)
    """
    if a.size == 0:
        return 0.0, 0.0
    if a.dtype.type in _CV_DTYPES:
        v, _ = cv_view(a)
        lo, hi, _, _ = cv2.minMaxLoc(v)
        return float(lo), float(hi)
    return float(np.min(a)), float(np.max(a))
