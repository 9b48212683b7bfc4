"""Paper A's full-mammogram pipeline (trim, CLAHE, resize to 224, median) for image-level items.

Order and why:

1. load (native uint16, no float copy), 2. trim the border (a view), 3. resize to the working size (area
average straight from uint16), 4. merge the masks (each resized mask is lesion where it covers half a pixel;
beside the merged label, an index map keeps which mask each pixel came from, for the lesion-level evaluation),
5. flip to the left (at 224 x 224 the copy is free), 6. CLAHE, 7. median, 8. float32.

It departs from paper A in one place: CLAHE runs after the resize, on the working-size image, not on the full
film. At full size CLAHE alone costs as much as reading the file, which would break the "within 2x of read and
resize" budget; with 8 x 8 tiles the tiles cover the same anatomy either way and the clip limit is relative to
each tile's mean histogram height, so the enhancement is of the same kind, computed on the averaged pixels.
``clahe_before_resize=True`` restores the paper's order (about +35 ms per image). Everything else keeps the
paper's order where it matters (median after the resize, as in the paper).

Augmentation: paper B's list (see :func:`~monai_cbis.transforms.presets.base.augmentation`); full mammograms are
flipped only vertically, to keep the chest wall on the left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ..crop import CropBreastd, TrimBorderd
from ..intensity import CLAHEd, MedianFilterd
from ..io import LoadMammogramd
from ..masks import MergeMasksd
from ..spatial import FastResized, FlipToLeftd
from .base import FilmWithMasksKeys, Preset, PresetSettings, augmentation, float32_output

__all__ = ["FullMammogramSettings", "full_mammogram_transforms"]


@dataclass(frozen=True)
class FullMammogramSettings(FilmWithMasksKeys, PresetSettings):
    """The settings of :func:`full_mammogram_transforms`, for image-level items (``image`` + list of ``label``
    masks).

    Args:
        image_size: working size ``(W, H)`` or one int (224 in paper A).
        image_key, label_key, laterality_key: item keys; ``label_key=None`` for images without masks.
        label_index_key: the key that receives the lesion index map of the masks
            (:class:`~monai_cbis.transforms.LesionIndexMap`: 0 background, ``k`` the item's k-th mask), made beside
            the merged label and moved with it (nearest); the lesion-level evaluation forms one ground-truth lesion
            per index. None leaves it out; without ``label_key`` there is none.
        trim_fraction: border removed on every side (paper A: "a small percentage").
        crop_breast: crop to the breast (Otsu) after trimming; not in the paper.
        clip_limit, tile_grid_size: CLAHE settings (OpenCV convention).
        median_radius: median window half-width (1 -> 3 x 3); 0 to skip.
        clahe_before_resize: CLAHE on the full film as in the paper (slower), see the module docstring.
        out_channels: repeat the grey channel (3 for ImageNet-pretrained encoders).
        augment: overrides of the augmentation settings (``rotate_range`` in radians, ``rotate_prob``,
            ``flip_prob``, ``zoom``, ``zoom_prob``, ``brightness``, ``contrast_gamma``, ``noise_std``,
            ``intensity_prob``; see :data:`~monai_cbis.transforms.presets.base.AUGMENT_DEFAULTS`).
        augment_device: None (the augmentation runs on each item where the loader runs: in its CPU workers) or a
            device such as ``"cuda:0"``: the item pipeline stays deterministic and the augmentation runs on whole
            batches on that device (:attr:`~monai_cbis.transforms.Preset.batch`, a
            :class:`~monai_cbis.transforms.RandBatchAugmentd`, applied by the trainer's
            :class:`~monai_cbis.engines.PrepareBatchAugment`); see ``benchmarks/loader.py`` for when it pays.
        augment_backend: ``"monai"`` (default: MONAI's random transforms, one after another) or ``"opencv"``: the
            same augmentation drawn once per item and applied in one OpenCV pass on CPU
            (:class:`~monai_cbis.transforms.RandOpenCVAugmentd`), several times faster: for DataLoader workers
            that must keep a GPU busy (``benchmarks/loader.py``). Not with ``augment_device``.
    """

    image_size: int | Sequence[int] = 224
    image_key: str = "image"
    label_key: str | None = "label"
    laterality_key: str | None = "laterality"
    label_index_key: str | None = "label_index"
    trim_fraction: float = 0.02
    crop_breast: bool = False
    clip_limit: float = 2.0
    tile_grid_size: int | Sequence[int] = 8
    median_radius: int = 1
    clahe_before_resize: bool = False
    out_channels: int = 1
    augment: dict | None = None
    augment_device: str | None = None
    augment_backend: str = "monai"

    name: ClassVar[str] = "full_mammogram"

    def deterministic_transforms(self) -> list:
        keys, image_key, loaded = self.keys, self.image_key, self.loaded_keys
        clahe = CLAHEd(image_key, clip_limit=self.clip_limit, tile_grid_size=self.tile_grid_size)
        det: list = [LoadMammogramd(loaded), TrimBorderd(loaded, self.trim_fraction)]
        if self.crop_breast:
            det.append(CropBreastd(loaded, source_key=image_key))
        if self.clahe_before_resize:
            det.append(clahe)
        det.append(FastResized(loaded, self.image_size, inverse_mode=self.modes[: len(loaded)]))
        if self.label_key:
            det.append(MergeMasksd(self.label_key, index_keys=self.index_key))
        det.append(FlipToLeftd(keys, laterality_key=self.laterality_key, source_key=image_key))
        if not self.clahe_before_resize:
            det.append(clahe)
        if self.median_radius > 0:
            det.append(MedianFilterd(image_key, radius=self.median_radius))
        return det + float32_output(keys, image_key, self.out_channels)

    def random_transforms(self) -> list:
        return augmentation(self.keys, self.image_key, [1], self.modes, self.augment, self.augment_kind)


def full_mammogram_transforms(*args, **kwargs) -> Preset:
    """Paper A's full-mammogram pipeline: ``get_preset("full_mammogram", ...)``.

    Args:
        args, kwargs: the fields of :class:`FullMammogramSettings`, in its order (``image_size`` first).

    Example:
        >>> preset = full_mammogram_transforms(image_size=224)
        >>> [type(t).__name__ for t in preset.deterministic.transforms][:4]
        ['LoadMammogramd', 'TrimBorderd', 'FastResized', 'MergeMasksd']
        >>> item = preset.train()({"image": "full.dcm", "label": ["m1.dcm"], "laterality": "RIGHT"})  # doctest: +SKIP
        >>> item["image"].shape, item["label"].shape  # doctest: +SKIP
        (torch.Size([1, 224, 224]), torch.Size([1, 224, 224]))
    """
    return FullMammogramSettings(*args, **kwargs).preset()
