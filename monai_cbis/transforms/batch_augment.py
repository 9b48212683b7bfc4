"""Paper B's augmentation of a whole batch at once, on the batch's device: the GPU path behind ``augment_device``.

A GPU trains paper A's network at 224 x 224 at about a thousand images per second. MONAI's random transforms run on
CUDA tensors, but one image at a time: each rotation, flip and zoom is a few small kernels and about a millisecond of
Python, so a GPU augmenting image by image served under a hundred images per second (``benchmarks/loader.py`` on an
H200, fed by two CPU cores). Here the batch is augmented as a batch:

* each image gets its own draw (:class:`~monai_cbis.transforms.augment_draw.RandAugmentDraw`: the same settings,
  probabilities and order of draws as :class:`~monai_cbis.transforms.RandOpenCVAugment` and MONAI's chain);
* the geometry of all images that move is one ``torch.nn.functional.affine_grid`` and one ``grid_sample`` (the
  draws' matrices, :meth:`~monai_cbis.transforms.augment_draw.AugmentDraw.matrix`; linear for the image, nearest for
  masks; what moves in from outside is 0, as with MONAI's rotation); images whose draw does not move are not
  resampled;
* brightness (``v * (1 + f)``), contrast (MONAI's gamma formula on each image's own min/max) and Gaussian noise (its
  spread drawn in ``[0, noise_std]``) are a few element-wise kernels over the batch, each image with its own values.

The batch comes from the loader without augmentation (the presets built with ``augment_device`` leave their item
pipeline deterministic and put this transform in :attr:`~monai_cbis.transforms.Preset.batch`), and
:class:`~monai_cbis.engines.PrepareBatchAugment` applies it after moving the batch to the device. Nothing is recorded
in ``applied_operations`` (training augmentation is never inverted).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from monai.data import MetaTensor
from monai.utils import TransformBackends

from .augment_draw import AugmentDraw, RandAugmentDraw, RandAugmentDrawd

__all__ = ["RandBatchAugment", "RandBatchAugmentd", "BATCH_MODES"]

#: Interpolation names (MONAI's, as ``grid_sample`` spells them).
BATCH_MODES = ("bilinear", "nearest", "bicubic")


class RandBatchAugment(RandAugmentDraw):
    """Paper B's augmentation of a batch ``(B, C, H, W)`` of 2D images, one draw per image (see the module).

    Args:
        mode: interpolation, one of :data:`BATCH_MODES` (``"nearest"`` for masks).
        kwargs: the augmentation settings of :class:`~monai_cbis.transforms.augment_draw.RandAugmentDraw`
            (``rotate_range``, ``rotate_prob``, ``flip_axes``, ``flip_prob``, ``zoom``, ``zoom_prob``, ``brightness``,
            ``contrast_gamma``, ``noise_std``, ``intensity_prob``; paper B's by default).

    Output: a tensor of the input's type (a MetaTensor keeps its metadata), shape, dtype and device.

    Raises:
        ValueError: an unknown ``mode``; an input that is not a 4-D batch.

    Example:
        >>> t = RandBatchAugment(rotate_prob=1.0, rotate_range=(np.pi / 2, np.pi / 2), flip_prob=0.0, zoom_prob=0.0,
        ...                      intensity_prob=0.0, mode="nearest")
        >>> batch = torch.zeros(2, 1, 5, 5); batch[:, 0, 0, 2] = 1
        >>> torch.nonzero(t(batch)[:, 0]).tolist()  # each image: top centre -> right centre, as RandOpenCVAugment
        [[0, 2, 4], [1, 2, 4]]
    """

    backend = [TransformBackends.TORCH]
    modes = BATCH_MODES

    def __init__(self, mode: str = "bilinear", **kwargs) -> None:
        super().__init__(**kwargs)
        self.mode = self.check_mode(mode)
        self.draws: list[AugmentDraw] = []

    def randomize_batch(self, batch_size: int) -> None:
        """One draw per image into :attr:`draws` (the images' draws in order, as ``batch_size`` calls of
        :meth:`randomize` would give them one by one)."""
        draws = []
        for _ in range(batch_size):
            self.randomize()
            draws.append(self.draw)
        self.draws = draws

    def apply(self, batch: torch.Tensor, mode: str | None = None, intensity: bool = True) -> torch.Tensor:
        """Apply the current :attr:`draws` to ``batch``: the geometry with ``mode``, then the intensity steps when
        ``intensity``."""
        mode = self.mode if mode is None else self.check_mode(mode)
        if batch.ndim != 4:
            raise ValueError(f"RandBatchAugment expects a batch of 2D images (B, C, H, W), got shape {batch.shape}.")
        if len(self.draws) != batch.shape[0]:
            raise ValueError(f"{len(self.draws)} draws for a batch of {batch.shape[0]}: call randomize_batch first.")
        img = batch.as_tensor() if isinstance(batch, MetaTensor) else batch
        out = _warp(img, self.draws, mode)
        if intensity:
            out = _intensity(out, self.draws)
        if out is img:
            return batch
        if isinstance(batch, MetaTensor):  # the input's metadata, its dict and list copied (the input is not written)
            out = out.as_subclass(MetaTensor).copy_meta_from(batch, copy_attr=False)
            out.meta, out.applied_operations = dict(batch.meta), list(batch.applied_operations)
        return out

    def __call__(self, batch: torch.Tensor, mode: str | None = None, randomize: bool = True) -> torch.Tensor:
        if randomize:
            self.randomize_batch(int(batch.shape[0]))
        return self.apply(batch, mode)


class RandBatchAugmentd(RandAugmentDrawd):
    """Dictionary twin of :class:`RandBatchAugment` for a collated batch: one draw per image, the geometry applied
    to every key (image and masks move together), the intensity steps to ``intensity_keys`` only.

    Args:
        keys: the keys to move (each a ``(B, C, H, W)`` tensor of the same batch).
        intensity_keys: the keys that also get brightness, contrast and noise (default: the first of ``keys``).
        mode: interpolation per key, or one for all (``["bilinear", "nearest"]`` for an image and its mask).
        allow_missing_keys: skip keys the batch lacks.
        kwargs: the augmentation settings of :class:`~monai_cbis.transforms.augment_draw.RandAugmentDraw`
            (``rotate_range``, ``flip_axes``, ...).

    Raises:
        ValueError: keys whose batch sizes differ; see :class:`RandBatchAugment`.

    Example:
        >>> t = RandBatchAugmentd(["image", "label"], mode=["bilinear", "nearest"], flip_prob=1.0, rotate_prob=0.0,
        ...                       zoom_prob=0.0, intensity_prob=0.0).set_random_state(0)
        >>> out = t({"image": torch.arange(3.0).reshape(1, 1, 1, 3), "label": torch.tensor([[[[1.0, 0, 0]]]])})
        >>> out["image"].flatten().tolist(), out["label"].flatten().tolist()
        ([2.0, 1.0, 0.0], [0.0, 0.0, 1.0])
    """

    backend = RandBatchAugment.backend
    array_class = RandBatchAugment

    def randomize(self, data: Mapping[Hashable, torch.Tensor]) -> None:
        """One draw per image of the batch ``data`` (none when it has none of the keys)."""
        sizes = {key: int(data[key].shape[0]) for key in self.key_iterator(data)}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"RandBatchAugmentd: the keys' batch sizes differ: {sizes}.")
        self.augment.randomize_batch(next(iter(sizes.values()), 0))


def _theta(draw: AugmentDraw, rows: int, cols: int) -> np.ndarray:
    """``affine_grid``'s 2 x 3 matrix for ``draw``: for each output position, where to read the input, in the
    normalised coordinates of ``align_corners=True`` (-1 and 1 at the centres of the first and last pixels, so the
    matrix's pixel centres map to pixel centres)."""
    to_norm = np.array([[2.0 / max(cols - 1, 1), 0, -1.0], [0, 2.0 / max(rows - 1, 1), -1.0], [0, 0, 1.0]])
    inverse = np.linalg.inv(draw.matrix((rows, cols)))
    return (to_norm @ inverse @ np.linalg.inv(to_norm))[:2]


def _warp(img: torch.Tensor, draws: Sequence[AugmentDraw], mode: str) -> torch.Tensor:
    """The draws' geometry: exact flips for the images that only flip, one ``grid_sample`` over the images that
    rotate or zoom; the others are left as they are."""
    groups: dict[tuple[int, ...], list[int]] = {}  # flips alone: exact, grouped by which axes flip
    resampled = []
    for i, d in enumerate(draws):
        if d.angle is not None or d.zoom is not None:
            resampled.append(i)
        elif d.flips:
            groups.setdefault(d.flips, []).append(i)
    if not resampled and not groups:
        return img
    out = img.clone()
    for flips, members in groups.items():
        index = torch.as_tensor(members, device=img.device)
        dims = [2 + a for a in flips]  # spatial axis 0 -> the third dimension (rows), 1 -> the last (columns)
        out.index_copy_(0, index, img.index_select(0, index).flip(dims))
    if resampled:
        rows, cols = int(img.shape[-2]), int(img.shape[-1])
        work = img if img.dtype in (torch.float32, torch.float64) else img.float()  # half precision: grid errors
        theta = np.stack([_theta(draws[i], rows, cols) for i in resampled])
        index = torch.as_tensor(resampled, device=img.device)
        part = work.index_select(0, index)
        grid = F.affine_grid(torch.as_tensor(theta, dtype=work.dtype, device=work.device), list(part.shape), True)
        warped = F.grid_sample(part, grid, mode=mode, padding_mode="zeros", align_corners=True)
        out.index_copy_(0, index, _cast(warped, img.dtype))
    return out


def _cast(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``values`` in ``dtype``; for an integer dtype rounded and saturated to its range (as OpenCV's warp does)."""
    if values.dtype == dtype:
        return values
    if dtype.is_floating_point:
        return values.to(dtype)
    info = torch.iinfo(dtype)
    return values.round().clamp(info.min, info.max).to(dtype)


def _per_image(values: list[float], ref: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(values, dtype=torch.float32, device=ref.device).view(-1, 1, 1, 1)


def _intensity(img: torch.Tensor, draws: Sequence[AugmentDraw]) -> torch.Tensor:
    """Brightness, contrast, noise in MONAI's order, each image with its own values, computed in float32 and returned
    in ``img``'s dtype."""
    if not any(d.intensity for d in draws):
        return img
    out = img.to(torch.float32, copy=True)
    if any(d.brightness is not None for d in draws):
        out *= _per_image([1.0 + (d.brightness or 0.0) for d in draws], out)
    gamma = [i for i, d in enumerate(draws) if d.gamma is not None]
    if gamma:
        index = torch.as_tensor(gamma, device=out.device)
        part = out.index_select(0, index)
        lo = part.amin(dim=(1, 2, 3), keepdim=True)
        span = part.amax(dim=(1, 2, 3), keepdim=True) - lo
        g = _per_image([draws[i].gamma for i in gamma], out)  # type: ignore[misc]
        part = ((part - lo) / (span + 1e-7)).clamp_min(0).pow(g) * span + lo
        out.index_copy_(0, index, part)
    if any(d.noise_std is not None for d in draws):
        generator = torch.Generator(device=out.device).manual_seed(draws[0].noise_seed)
        noise = torch.randn(out.shape, generator=generator, device=out.device, dtype=out.dtype)
        out += noise * _per_image([d.noise_std or 0.0 for d in draws], out)
    return _cast(out, img.dtype)
