"""MONAI transforms for CBIS-DDSM mammograms: loading, enhancement, invertible crops, boxes, presets and caching.

Every array transform has a dictionary twin (``...d``); geometry-changing ones are invertible. Arrays follow MONAI's
2-D convention ``(C, W, H)`` (spatial axis 0 = x = columns); see :mod:`monai_cbis.transforms.io`.
"""

from __future__ import annotations

from .io import CBISImageReader, LoadMammogram, LoadMammogramd
from .masks import MergeMasks, MergeMasksd, NormalizeMask, NormalizeMaskd

__all__ = [
    "CBISImageReader",
    "LoadMammogram",
    "LoadMammogramd",
    "NormalizeMask",
    "NormalizeMaskd",
    "MergeMasks",
    "MergeMasksd",
]
