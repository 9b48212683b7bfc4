"""Invertible geometry: :class:`FlipToLeft` (one canonical orientation) and :class:`FastResize` (anti-aliased resize
with an OpenCV fast path for full mammograms).

Both record themselves in the MetaTensor's ``applied_operations`` and update its affine the way MONAI's own ``Flip``
and ``Resize`` do, and their ``inverse`` uses those MONAI transforms to go back. Axes follow the package convention
``(C, W, H)``: spatial axis 0 is x (columns), so "chest wall on the left" means along x = 0.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.data.meta_obj import get_track_meta
from monai.transforms import Flip, InvertibleTransform, MapTransform, Resize, Transform
from monai.transforms.inverse import TraceableTransform
from monai.transforms.utils import scale_affine
from monai.utils import TraceKeys, TransformBackends, convert_to_dst_type, convert_to_tensor, ensure_tuple_rep

from .checks import check_single_channel, keyed_errors
from .resample import resample_2d
from .views import spatial_shape, to_numpy

__all__ = ["FlipToLeft", "FlipToLeftd", "FastResize", "FastResized"]

_LEFT, _RIGHT = ("L", "LEFT"), ("R", "RIGHT")


def _new_tensor(img):
    """A tensor with fresh metadata (MetaTensor when tracking), as MONAI's functional transforms start."""
    return convert_to_tensor(img.as_tensor() if isinstance(img, MetaTensor) else img, track_meta=get_track_meta())


class FlipToLeft(InvertibleTransform, Transform):
    """Mirror a mammogram so that the chest wall lies along the left edge (x = 0) and the nipple points right.

    CBIS-DDSM (and the synthetic copy) show a LEFT breast with its chest wall along column 0 and a RIGHT breast
    mirrored, so RIGHT images are flipped along x and LEFT images are left alone. When the laterality is unknown
    (None or ""), it is read from the image: the side with more signal is the chest wall. Labels must follow the
    image's decision: use :class:`FlipToLeftd`, which decides once per item.

    Args:
        laterality: ``"LEFT"``/``"L"`` or ``"RIGHT"``/``"R"`` (any case) for every image, or None to pass it per call
            or infer it.

    Raises:
        ValueError: an unknown laterality value; a multi-channel image when the laterality must be inferred.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((1, 4, 3), np.uint16); img[0, 3] = 100  # tissue on the right edge (x = 3)
        >>> flip = FlipToLeft()
        >>> out = flip(img, laterality="RIGHT")
        >>> out[0, 0].tolist(), flip.inverse(out).shape == out.shape
        ([100, 100, 100], True)
    """

    backend = [TransformBackends.TORCH]

    def __init__(self, laterality: str | None = None) -> None:
        self.laterality = self.parse_laterality(laterality)

    @staticmethod
    def parse_laterality(value) -> str | None:
        """``"L"``, ``"R"`` or None (unknown) from a laterality value such as ``"LEFT"``, ``"r"`` or ``""``."""
        if value is None:
            return None
        if isinstance(value, (list, tuple)) and len(value) == 1:  # a collated batch of one
            value = value[0]
        text = str(value).strip().upper()
        if text in ("", "NONE", "NAN", "UNKNOWN"):
            return None
        if text in _LEFT:
            return "L"
        if text in _RIGHT:
            return "R"
        raise ValueError(f"Unsupported laterality: {value!r}, available options are ['LEFT', 'RIGHT', 'L', 'R', None].")

    def needs_flip(self, img: torch.Tensor | np.ndarray, laterality=None) -> bool:
        """Whether ``img`` must be mirrored: from ``laterality`` (or the constructor's), else from its content."""
        side = self.parse_laterality(laterality) or self.laterality
        if side is not None:
            return side == "R"
        check_single_channel(img, "FlipToLeft (inferring the laterality)")
        a = to_numpy(img)[0]
        step = max(1, max(a.shape) // 256)
        profile = a[::step, ::step].astype(np.float64).mean(axis=1)  # mean signal per x position
        half = profile.size // 2
        return bool(profile[profile.size - half :].sum() > profile[:half].sum())

    def flip(self, img: torch.Tensor | np.ndarray, flipped: bool) -> torch.Tensor:
        """Apply the decision (always recorded, so that ``inverse`` can pop it either way)."""
        img_t = convert_to_tensor(img, track_meta=get_track_meta())
        size = spatial_shape(img_t)
        affine = None
        if flipped:
            rank = int(img_t.peek_pending_rank()) if isinstance(img_t, MetaTensor) else len(size)
            affine = torch.eye(rank + 1, dtype=torch.float64)
            affine[0, 0], affine[0, -1] = -1.0, size[0] - 1
        meta = TraceableTransform.track_transform_meta(
            img_t,
            sp_size=size,
            affine=affine,
            extra_info={"flipped": bool(flipped)},
            transform_info=self.get_transform_info(),
        )
        out = _new_tensor(img_t)
        if flipped:
            out = torch.flip(out, dims=(1,))
        return out.copy_meta_from(meta) if isinstance(out, MetaTensor) else out

    def __call__(self, img: torch.Tensor | np.ndarray, laterality=None) -> torch.Tensor:
        return self.flip(img, self.needs_flip(img, laterality))

    def inverse(self, data: torch.Tensor) -> torch.Tensor:
        transform = self.pop_transform(data)
        if not transform[TraceKeys.EXTRA_INFO]["flipped"]:
            return data
        flipper = Flip(spatial_axis=0)
        with flipper.trace_transform(False):
            return flipper(data)


class FlipToLeftd(MapTransform, InvertibleTransform):
    """Dictionary twin of :class:`FlipToLeft`: one decision per item, applied to every key (image and label).

    Args:
        keys: keys to flip.
        laterality_key: item key holding ``"LEFT"``/``"RIGHT"`` (the datalists' ``laterality``); when it is absent or
            empty the side is inferred from ``source_key``.
        source_key: image used to infer the side; defaults to the first of ``keys``.

    Example:
        >>> import numpy as np
        >>> item = {"image": np.zeros((1, 4, 3)), "label": np.zeros((1, 4, 3)), "laterality": "RIGHT"}
        >>> out = FlipToLeftd(["image", "label"])(item)
        >>> [op["extra_info"]["flipped"] for op in out["label"].applied_operations]
        [True]
    """

    backend = FlipToLeft.backend

    def __init__(
        self,
        keys: KeysCollection,
        laterality_key: str | None = "laterality",
        source_key: str | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.laterality_key = laterality_key
        self.source_key = source_key
        self.flipper = FlipToLeft()

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        keys = list(self.key_iterator(d))
        if not keys:
            return d
        laterality = d.get(self.laterality_key) if self.laterality_key is not None else None
        source = self.source_key if self.source_key is not None else keys[0]
        flipped = keyed_errors(
            type(self).__name__,
            self.laterality_key if laterality else source,
            self.flipper.needs_flip,
            d[source],
            laterality,
        )
        for key in keys:
            d[key] = self.flipper.flip(d[key], flipped)
        return d

    def inverse(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.flipper.inverse(d[key])
        return d


class FastResize(InvertibleTransform, Transform):
    """Resize a 2-D image to ``spatial_size`` with area averaging when shrinking and bilinear interpolation when
    enlarging; returns float32.

    Built for shrinking a 3000 x 5000 16-bit mammogram early in a pipeline: it reads the native dtype (no float copy
    of the full image) and costs a few milliseconds where MONAI's ``Resize(mode="area")`` needs a float32 copy and
    ``cv2.INTER_AREA`` on uint16 takes about 30 ms. See :func:`monai_cbis.transforms.resample.resample_2d` for the
    exact filter. The geometry (and the affine update) is MONAI ``Resize``'s with ``align_corners=False``; ``inverse``
    resizes back to the recorded size with MONAI's ``Resize`` in ``inverse_mode``.

    Masks come out as float coverage in ``[0, max]``; binarise them after resizing (``NormalizeMask``: half range),
    which keeps an output pixel when the lesion covers at least half of it.

    Args:
        spatial_size: output ``(W, H)``, or one int for both; with ``size_mode="longest"`` one int, the longest
            side's length (the other side keeps the aspect ratio, as MONAI's ``Resize(size_mode="longest")``); with
            ``size_mode="downsample"`` one int, the factor every side is divided by (aspect kept, 1 keeps the size).
        inverse_mode: interpolation of ``inverse``: ``"bilinear"`` (images, probabilities) or ``"nearest"`` (labels).
        size_mode: ``"all"`` (``spatial_size`` is the output size), ``"longest"`` or ``"downsample"``.

    Example:
        >>> import numpy as np
        >>> tuple(FastResize(100, size_mode="longest")(np.ones((1, 300, 500), np.uint16)).shape)
        (1, 60, 100)
        >>> tuple(FastResize(4, size_mode="downsample")(np.ones((1, 300, 500), np.uint16)).shape)
        (1, 75, 125)
        >>> resize = FastResize(224)
        >>> out = resize(np.ones((1, 3000, 5000), np.uint16))
        >>> tuple(out.shape), str(out.dtype), tuple(resize.inverse(out).shape)
        ((1, 224, 224), 'torch.float32', (1, 3000, 5000))
    """

    backend = [TransformBackends.NUMPY]

    def __init__(
        self, spatial_size: int | Sequence[int], inverse_mode: str = "bilinear", size_mode: str = "all"
    ) -> None:
        if size_mode not in ("all", "longest", "downsample"):
            raise ValueError(
                f"Unsupported size_mode: {size_mode!r}, available options are ['all', 'longest', 'downsample']."
            )
        if size_mode != "all" and not isinstance(spatial_size, (int, np.integer)):
            what = "the longest side" if size_mode == "longest" else "the factor"
            raise ValueError(f"size_mode={size_mode!r} takes one int ({what}), got {spatial_size!r}.")
        self.size_mode = size_mode
        self.spatial_size = tuple(int(s) for s in ensure_tuple_rep(spatial_size, 2))
        if min(self.spatial_size) < 1:
            raise ValueError(f"spatial_size must be positive, got {spatial_size}.")
        if inverse_mode not in ("bilinear", "nearest", "area", "bicubic"):
            raise ValueError(
                f"Unsupported inverse_mode: {inverse_mode!r}, available options are "
                "['bilinear', 'nearest', 'area', 'bicubic']."
            )
        self.inverse_mode = inverse_mode

    def __call__(self, img: torch.Tensor | np.ndarray) -> torch.Tensor:
        return self.resize(img, self.output_size(spatial_shape(img)))

    def resize(self, img: torch.Tensor | np.ndarray, size: Sequence[int], extra_info: dict | None = None):
        """``img`` resized to ``size`` ``(W, H)``, recorded for ``inverse`` (with ``extra_info`` beside the mode):
        what ``__call__`` does once it has the size; subclasses that find the size elsewhere call it."""
        img_t = convert_to_tensor(img, track_meta=get_track_meta())
        a = to_numpy(img_t)
        if a.ndim != 3:
            raise ValueError(f"FastResize expects a channel-first 2-D image (C, W, H), got shape {tuple(a.shape)}.")
        orig = spatial_shape(img_t)
        size = tuple(int(s) for s in size)
        out = np.stack([resample_2d(a[c], size) for c in range(a.shape[0])])
        meta = TraceableTransform.track_transform_meta(
            img_t,
            sp_size=size,
            affine=scale_affine(orig, size),
            extra_info={**(extra_info or {}), "mode": self.inverse_mode},
            orig_size=orig,
            transform_info=self.get_transform_info(),
        )
        out_t = convert_to_dst_type(out, dst=_new_tensor(img_t), dtype=torch.float32)[0]
        return out_t.copy_meta_from(meta) if isinstance(out_t, MetaTensor) else out_t

    def output_size(self, shape: Sequence[int]) -> tuple[int, int]:
        """The output ``(W, H)`` for an input of spatial ``shape``."""
        if self.size_mode == "all":
            return self.spatial_size
        scale = 1.0 / self.spatial_size[0] if self.size_mode == "downsample" else self.spatial_size[0] / max(shape)
        return tuple(max(1, int(round(s * scale))) for s in shape)

    def inverse(self, data: torch.Tensor) -> torch.Tensor:
        transform = self.pop_transform(data)
        orig_size = [int(s) for s in transform[TraceKeys.ORIG_SIZE]]
        mode = transform[TraceKeys.EXTRA_INFO]["mode"]
        resizer = Resize(spatial_size=orig_size, mode=mode, anti_aliasing=False)
        with resizer.trace_transform(False):
            return resizer(data)


class FastResized(MapTransform, InvertibleTransform):
    """Dictionary twin of :class:`FastResize`; ``inverse_mode`` may be given per key.

    Example:
        >>> import numpy as np
        >>> t = FastResized(["image", "label"], 64, inverse_mode=("bilinear", "nearest"))
        >>> out = t({"image": np.zeros((1, 500, 300)), "label": np.zeros((1, 500, 300), np.uint8)})
        >>> tuple(out["label"].shape)
        (1, 64, 64)
    """

    backend = FastResize.backend

    def __init__(
        self,
        keys: KeysCollection,
        spatial_size: int | Sequence[int],
        inverse_mode: str | Sequence[str] = "bilinear",
        allow_missing_keys: bool = False,
        size_mode: str = "all",
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        modes = ensure_tuple_rep(inverse_mode, len(self.keys))
        self.resizers = {
            key: FastResize(spatial_size, mode, size_mode) for key, mode in zip(self.keys, modes, strict=True)
        }

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = keyed_errors(type(self).__name__, key, self.resizers[key], d[key])
        return d

    def inverse(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.resizers[key].inverse(d[key])
        return d
