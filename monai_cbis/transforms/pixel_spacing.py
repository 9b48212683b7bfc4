"""Resizing a film to a target pixel size in mm: the 2-D analogue of MONAI's ``Spacing(d)`` for films, built on
:class:`~monai_cbis.transforms.FastResize` (area averaging straight from uint16, invertible the same way).

Each film is resized from its own pixel size to ``target_spacing_mm``: a film of ``n`` pixels of ``s`` mm along an
axis becomes ``round(n * s / target)`` pixels (at least 1), so films scanned at different resolutions meet on one
grid in mm. The output pixel is the target to within half a pixel over the film's extent (the grid is MONAI
``Resize``'s, ``align_corners=False``; the affine records the exact pixel size), and ``inverse`` resizes back to the
recorded size, so ``Invertd`` lands on the film's own pixels as it does after a resize by a factor.

**Where the pixel size comes from.** The affine of the image's MetaTensor (so crops before this transform do not
matter) when the reader found a real spacing: :class:`~monai_cbis.transforms.CBISImageReader` records
``spacing_source`` = ``"PixelSpacing"`` or ``"ImagerPixelSpacing"`` (positive values only), else ``"default"``
(1 mm, a placeholder: JPEG and PNG files, DICOM files without either tag).

**A film without a usable spacing** (``"default"``, or an array without metadata) is never resized on a guess:

* by default it is an error naming the file, which says what to do (give ``fallback_spacing_mm``, tag the file, or
  resize by a factor with ``downsample``);
* with ``fallback_spacing_mm`` (e.g. about 0.05 for DDSM's scanners, the nominal value; CBIS-DDSM's files are not
  all tagged, the Kaggle JPEGs never are) its original pixels are taken to be that size: each such film logs one
  warning naming the file and the size assumed, counted (:func:`fallback_count`: films resized on a fallback in
  this process; each warning carries the running count), and its applied operation records
  ``spacing_from="fallback"``. The film's
  ``spacing_source`` stays ``"default"``, so lesion areas are still reported in pixels, not in mm on a guess.

Example:
    >>> import numpy as np, torch
    >>> from monai.data import MetaTensor
    >>> film = MetaTensor(np.ones((1, 300, 500), np.uint16), affine=torch.diag(torch.tensor([0.1, 0.1, 1.0])),
    ...                   meta={"spacing_source": "PixelSpacing", "filename_or_obj": "a.dcm"})
    >>> resize = ResizeToSpacing(0.2)
    >>> out = resize(film)
    >>> tuple(out.shape), [round(float(v), 3) for v in out.affine.diagonal()[:2]]
    ((1, 150, 250), [0.2, 0.2])
    >>> tuple(resize.inverse(out).shape)
    (1, 300, 500)
    >>> try:  # an array without metadata has no spacing: an error that says what to do
    ...     ResizeToSpacing(0.2)(np.ones((1, 30, 50)))
    ... except ValueError as e:
    ...     print(str(e)[:46])
    <array>: no usable pixel spacing (spacing_sour
    >>> tuple(ResizeToSpacing(0.2, fallback_spacing_mm=0.1)(np.ones((1, 30, 50))).shape)
    (1, 15, 25)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Mapping, Sequence

import torch
from monai.config import KeysCollection
from monai.data.utils import affine_to_spacing
from monai.transforms import InvertibleTransform, MapTransform
from monai.utils import ensure_tuple_rep

from .checks import keyed_errors
from .spatial import FastResize
from .views import spatial_shape

__all__ = ["ResizeToSpacing", "ResizeToSpacingd", "SPACING_TAGS", "film_spacing_mm", "fallback_count"]

_LOGGER = logging.getLogger(__name__)
_FALLBACKS = {"films": 0}  # module state, not a transform attribute: the cache's key hashes those

#: The ``spacing_source`` values of a real pixel size (the DICOM tags :class:`~.io.CBISImageReader` reads).
SPACING_TAGS = ("PixelSpacing", "ImagerPixelSpacing")


def fallback_count() -> int:
    """Films resized on ``fallback_spacing_mm`` in this process (each DataLoader worker counts its own).

    Example:
        >>> isinstance(fallback_count(), int)
        True
    """
    return _FALLBACKS["films"]


def _one(value):
    """A metadata value, unwrapped from a collated list of one."""
    return value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value


def _name(img) -> str:
    meta = getattr(img, "meta", None)
    name = _one(meta.get("filename_or_obj")) if isinstance(meta, Mapping) else None
    return str(name) if name else "<array>"


def film_spacing_mm(img) -> tuple[tuple[float, float] | None, str | None]:
    """``((dx, dy), source)``: the size in mm of ``img``'s current pixels, from its affine, and the tag the reader
    found it in; ``(None, source)`` when the spacing is not a real one (see the module docstring).

    Example:
        >>> import numpy as np
        >>> film_spacing_mm(np.zeros((1, 4, 4)))
        (None, None)
    """
    meta = getattr(img, "meta", None)
    source = _one(meta.get("spacing_source")) if isinstance(meta, Mapping) else None
    if source not in SPACING_TAGS:
        return None, source
    return _pixel_size(img), source


def _pixel_size(img) -> tuple[float, float]:
    """The size of ``img``'s current pixels in the units of its affine (1 per original pixel when untagged)."""
    affine = getattr(img, "affine", None)
    if affine is None:
        return 1.0, 1.0
    dx, dy = (float(v) for v in affine_to_spacing(torch.as_tensor(affine).double(), r=2))
    return dx, dy


def _positive(value, name: str, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (math.isfinite(v) and v > 0):
        what = "a positive pixel size in mm" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be {what}, got {value!r}.")
    return v


class ResizeToSpacing(FastResize):
    """Resize a 2-D film from its own pixel size to ``target_spacing_mm`` (see the module docstring); returns
    float32, records itself for ``inverse`` (:class:`~monai_cbis.transforms.FastResize`'s) with the pixel size it
    started from (``spacing_mm``) and where that came from (``spacing_from``: the tag or ``"fallback"``).

    Args:
        target_spacing_mm: the output pixel size in mm, one number for both axes or ``(dx, dy)``.
        inverse_mode: interpolation of ``inverse`` (``"bilinear"`` images, ``"nearest"`` labels).
        fallback_spacing_mm: the original pixel size to assume for a film without a usable spacing (None: such a
            film is an error).

    Raises:
        ValueError: a target or fallback that is not a positive number; at call time, a film without a usable
            spacing and no fallback (the message names the file and what to do).
    """

    def __init__(
        self,
        target_spacing_mm: float | Sequence[float],
        inverse_mode: str = "bilinear",
        fallback_spacing_mm: float | None = None,
    ) -> None:
        super().__init__(1, inverse_mode, "all")
        target = ensure_tuple_rep(target_spacing_mm, 2)
        self.target_spacing_mm = tuple(_positive(t, "target_spacing_mm") for t in target)
        self.fallback_spacing_mm = _positive(fallback_spacing_mm, "fallback_spacing_mm", allow_none=True)

    def _target_text(self) -> str:
        t = self.target_spacing_mm
        return f"{t[0]:g}" if t[0] == t[1] else f"({t[0]:g}, {t[1]:g})"

    def film_spacing(self, img) -> tuple[tuple[float, float], str]:
        """``((dx, dy), source)`` in mm of ``img``'s pixels; for a film without a usable spacing, the fallback
        (logged and counted: :func:`fallback_count`) or an error."""
        spacing, source = film_spacing_mm(img)
        if spacing is not None:
            return spacing, str(source)
        if self.fallback_spacing_mm is None:
            raise ValueError(
                f"{_name(img)}: no usable pixel spacing (spacing_source {source!r}; PixelSpacing or "
                f"ImagerPixelSpacing needed) to resize to target_spacing_mm={self._target_text()}. Tag the file, give "
                "fallback_spacing_mm (the pixel size to assume, e.g. about 0.05 for DDSM's scanners), or resize by "
                "a factor with downsample instead."
            )
        _FALLBACKS["films"] += 1
        _LOGGER.warning(
            f"{_name(img)}: no PixelSpacing or ImagerPixelSpacing; resized to {self._target_text()} mm pixels as if "
            f"its own were {self.fallback_spacing_mm:g} mm (fallback_spacing_mm; film {fallback_count()} on the "
            "fallback in this process)."
        )
        px, py = _pixel_size(img)  # in original pixels when untagged (crops keep 1, an earlier resize scales it)
        return (px * self.fallback_spacing_mm, py * self.fallback_spacing_mm), "fallback"

    def spacing_size(self, shape: Sequence[int], spacing: Sequence[float]) -> tuple[int, int]:
        """The output ``(W, H)`` of a film of spatial ``shape`` and pixel size ``spacing`` (mm)."""
        return tuple(
            max(1, int(round(n * s / t))) for n, s, t in zip(shape, spacing, self.target_spacing_mm, strict=True)
        )

    def __call__(self, img, spacing: tuple[Sequence[float], str] | None = None) -> torch.Tensor:
        """Resize ``img``; ``spacing``: ``((dx, dy), source)`` found once for several keys (the dictionary twin),
        else :meth:`film_spacing` of ``img``."""
        shape = spatial_shape(img)
        if len(shape) != 2:
            raise ValueError(f"ResizeToSpacing expects a 2-D image (C, W, H), got shape {tuple(img.shape)}.")
        (dx, dy), source = spacing if spacing is not None else self.film_spacing(img)
        size = self.spacing_size(shape, (dx, dy))
        info = {"spacing_mm": [float(dx), float(dy)], "spacing_from": source}
        return self.resize(img, size, info)


class ResizeToSpacingd(MapTransform, InvertibleTransform):
    """Dictionary twin of :class:`ResizeToSpacing`: the pixel size is read once per item from ``source_key`` (the
    film; its masks may carry no spacing of their own) and every key is resized from it; ``inverse_mode`` may be
    given per key.

    Args:
        keys, target_spacing_mm, fallback_spacing_mm: as :class:`ResizeToSpacing`.
        inverse_mode: one mode, or one per key.
        source_key: the key whose spacing sizes every key (default: the first of ``keys``).
        allow_missing_keys: as MONAI's ``MapTransform``.

    Example:
        >>> import numpy as np, torch
        >>> from monai.data import MetaTensor
        >>> meta = {"spacing_source": "PixelSpacing"}
        >>> film = MetaTensor(np.ones((1, 300, 500)), affine=torch.diag(torch.tensor([0.1, 0.05, 1.0])), meta=meta)
        >>> out = ResizeToSpacingd(["image", "label"], 0.2, ("bilinear", "nearest"))(
        ...     {"image": film, "label": np.zeros((2, 300, 500), np.uint8)})
        >>> tuple(out["image"].shape), tuple(out["label"].shape)
        ((1, 150, 125), (2, 150, 125))
    """

    backend = ResizeToSpacing.backend

    def __init__(
        self,
        keys: KeysCollection,
        target_spacing_mm: float | Sequence[float],
        inverse_mode: str | Sequence[str] = "bilinear",
        source_key: str | None = None,
        fallback_spacing_mm: float | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        modes = ensure_tuple_rep(inverse_mode, len(self.keys))
        self.source_key = source_key if source_key is not None else self.keys[0]
        self.sizer = ResizeToSpacing(target_spacing_mm, fallback_spacing_mm=fallback_spacing_mm)
        self.resizers = {
            key: ResizeToSpacing(target_spacing_mm, mode, fallback_spacing_mm)
            for key, mode in zip(self.keys, modes, strict=True)
        }

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        keys = list(self.key_iterator(d))
        if not keys:
            return d
        source = self.source_key if self.source_key in d else keys[0]
        spacing = keyed_errors(type(self).__name__, source, self.sizer.film_spacing, d[source])
        for key in keys:
            d[key] = keyed_errors(type(self).__name__, key, self.resizers[key], d[key], spacing)
        return d

    def inverse(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.resizers[key].inverse(d[key])
        return d
