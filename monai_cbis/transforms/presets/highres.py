"""Full-resolution lesion segmentation (issue 14): the breast at a fraction of native resolution, trained on patches
that oversample the lesions, run on the whole film with sliding windows.

Order and why:

1. load the film and, for training and evaluation, the stack of its lesion masks (one per CSV row);
2. trim the border, crop to the breast (:class:`~monai_cbis.transforms.CropBreastd`, a margin of full-film
   pixels): the empty background would be most of every patch otherwise;
3. divide every side by ``downsample`` (aspect kept: :class:`~monai_cbis.transforms.FastResized` with
   ``size_mode="downsample"``, area averaging straight from uint16); 4 makes a real 5000 x 3000 film about
   1250 x 750; the synthetic demo's films are about 8 times smaller, so the CPU demo keeps them whole (1). Or, with
   ``target_spacing_mm``, resize each film from its own pixel size to that one
   (:class:`~monai_cbis.transforms.ResizeToSpacingd`, the film's spacing sizing its masks too: films scanned at
   different resolutions meet on one grid in mm; 0.2 mm makes a real 50 um film about 1250 x 750).
   ``target_spacing_mm`` takes precedence: ``downsample`` is then not used. A film without a usable spacing is an
   error naming it, unless ``fallback_spacing_mm`` gives the pixel size to assume (logged per film; see
   :mod:`monai_cbis.transforms.pixel_spacing`);
4. merge the masks (a resized mask is lesion where it covers half a pixel; beside the merged label, an index map
   keeps which mask each pixel came from, for the lesion-level evaluation, as the full-mammogram preset does), flip
   to the left, CLAHE, float32.

Steps 1-4 are the cacheable part (:mod:`monai_cbis.transforms.cache`): an epoch of patches reads the small cached
film, not the DICOMs. Training then pads a film smaller than a patch, draws ``num_samples`` patches of
``patch_size`` per film with MONAI's ``RandCropByPosNegLabeld`` (a patch is centred on a lesion pixel with
probability ``pos / (pos + neg)``, else on a breast pixel: small lesions are seen every epoch) and augments each
patch as the full-mammogram preset does (vertical flip only: the chest wall stays on the left).

Validation, evaluation and inference take the deterministic part (``preset.inference()``): the whole working film,
which a ``SlidingWindowInferer`` with ``roi_size = patch_size`` segments; ``Invertd`` through this part maps the
prediction back onto the original film (resize, flip, breast crop and trim undone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from monai.transforms import RandCropByPosNegLabeld, RandSpatialCropSamplesd, SpatialPadd

from ..crop import CropBreastd, TrimBorderd
from ..intensity import CLAHEd
from ..io import LoadMammogramd
from ..masks import MergeMasksd
from ..pixel_spacing import ResizeToSpacingd
from ..spatial import FastResized, FlipToLeftd
from .base import FilmWithMasksKeys, Preset, PresetSettings, augmentation, float32_output

__all__ = ["HighresSettings", "highres_transforms"]


@dataclass(frozen=True)
class HighresSettings(FilmWithMasksKeys, PresetSettings):
    """The settings of :func:`highres_transforms`, for image-level items (``image`` + list of ``label`` masks +
    ``laterality``).

    Args:
        downsample: every side of the breast crop is divided by this int (4 on a GPU: about 1250 x 750 for a real
            film; 1 keeps the film's own pixels). Not used when ``target_spacing_mm`` is given.
        target_spacing_mm: the working grid's pixel size in mm, each film resized from its own
            (``PixelSpacing`` / ``ImagerPixelSpacing``) instead of by ``downsample``; None (the default) uses
            ``downsample``.
        fallback_spacing_mm: with ``target_spacing_mm``, the original pixel size in mm to assume for a film without
            a usable spacing (each such film is logged); None: such a film is an error naming it.
        patch_size: ``(W, H)`` of a training patch (and the sliding window's ``roi_size``); sides divisible by 32
            for the U-Net encoders (512 x 512 on a GPU).
        num_samples: patches drawn per film and epoch (a batch holds ``batch_size * num_samples`` patches).
        pos, neg: a patch is centred on a lesion pixel with probability ``pos / (pos + neg)``, else on a breast
            pixel (MONAI's ``RandCropByPosNegLabeld``; a film without lesion pixels gives breast patches only).
        image_key, label_key, laterality_key: item keys; ``label_key=None`` for films without masks (inference:
            the random part then draws plain random patches).
        label_index_key: the key that receives the lesion index map of the masks
            (:class:`~monai_cbis.transforms.LesionIndexMap`), moved with the label (nearest) through the flip and
            the patches; None leaves it out; without ``label_key`` there is none.
        trim_fraction: border removed on every side before the breast crop.
        breast_margin: pixels of the full film kept around the breast.
        clip_limit, tile_grid_size: CLAHE settings (OpenCV convention).
        out_channels: repeat the grey channel (3 for ImageNet-pretrained encoders that take RGB).
        augment: overrides of the augmentation settings of each patch (see
            :data:`~monai_cbis.transforms.presets.base.AUGMENT_DEFAULTS`).

    Raises:
        ValueError: ``downsample`` below 1, a ``target_spacing_mm`` or ``fallback_spacing_mm`` that is not a
            positive number, ``fallback_spacing_mm`` without ``target_spacing_mm``, a ``patch_size`` that is not two
            positive sides, ``num_samples`` below 1, or ``pos`` / ``neg`` negative or both zero.
    """

    downsample: int = 4
    patch_size: Sequence[int] = (512, 512)
    num_samples: int = 4
    pos: float = 1.0
    neg: float = 1.0
    image_key: str = "image"
    label_key: str | None = "label"
    laterality_key: str | None = "laterality"
    label_index_key: str | None = "label_index"
    trim_fraction: float = 0.02
    breast_margin: int = 32
    clip_limit: float = 2.0
    tile_grid_size: int | Sequence[int] = 8
    out_channels: int = 1
    augment: dict | None = None
    target_spacing_mm: float | None = None
    fallback_spacing_mm: float | None = None

    name: ClassVar[str] = "highres"

    def __post_init__(self) -> None:
        super().__post_init__()
        if int(self.downsample) < 1:
            raise ValueError(
                f"downsample must be an int of at least 1 (1 keeps the film's pixels), got {self.downsample}."
            )
        if self.fallback_spacing_mm is not None and self.target_spacing_mm is None:
            raise ValueError(
                f"fallback_spacing_mm={self.fallback_spacing_mm} only applies with target_spacing_mm (the pixel size "
                "to resize each film to); give target_spacing_mm, or leave fallback_spacing_mm None with downsample."
            )
        if self.target_spacing_mm is not None:
            self._resize()  # checks the pixel sizes now, not at the first film
        if len(self.patch_size) != 2 or min(int(s) for s in self.patch_size) < 1:
            raise ValueError(f"patch_size must be two positive sides (W, H), got {self.patch_size!r}.")
        if int(self.num_samples) < 1:
            raise ValueError(f"num_samples must be at least 1, got {self.num_samples}.")
        if min(self.pos, self.neg) < 0 or self.pos + self.neg == 0:
            raise ValueError(f"pos and neg must be non-negative and not both zero, got pos={self.pos}, neg={self.neg}.")

    def deterministic_transforms(self) -> list:
        keys, img, loaded = self.keys, self.image_key, self.loaded_keys
        det: list = [
            LoadMammogramd(loaded),
            TrimBorderd(loaded, self.trim_fraction),
            CropBreastd(loaded, source_key=img, margin=self.breast_margin),
            self._resize(),
        ]
        if self.label_key:
            det.append(MergeMasksd(self.label_key, index_keys=self.index_key))
        det += [
            FlipToLeftd(keys, laterality_key=self.laterality_key, source_key=img),
            CLAHEd(img, clip_limit=self.clip_limit, tile_grid_size=self.tile_grid_size),
        ]
        return det + float32_output(keys, img, self.out_channels)

    def _resize(self):
        """The working grid: the breast crop resized to ``target_spacing_mm`` when given, else by ``downsample``."""
        loaded, modes = self.loaded_keys, self.modes[: len(self.loaded_keys)]
        if self.target_spacing_mm is None:
            return FastResized(loaded, int(self.downsample), inverse_mode=modes, size_mode="downsample")
        return ResizeToSpacingd(
            loaded,
            self.target_spacing_mm,
            inverse_mode=modes,
            source_key=self.image_key,
            fallback_spacing_mm=self.fallback_spacing_mm,
        )

    def random_transforms(self) -> list:
        keys, patch = self.keys, [int(s) for s in self.patch_size]
        rand: list = [SpatialPadd(keys, spatial_size=patch)]
        if self.label_key:
            rand.append(
                RandCropByPosNegLabeld(
                    keys,
                    label_key=self.label_key,
                    spatial_size=patch,
                    pos=self.pos,
                    neg=self.neg,
                    num_samples=int(self.num_samples),
                    image_key=self.image_key,
                    image_threshold=0.0,
                )
            )
        else:
            rand.append(
                RandSpatialCropSamplesd(keys, roi_size=patch, num_samples=int(self.num_samples), random_size=False)
            )
        return rand + augmentation(keys, self.image_key, [1], self.modes, self.augment)


def highres_transforms(*args, **kwargs) -> Preset:
    """The full-resolution patch pipeline: ``get_preset("highres", ...)``.

    Args:
        args, kwargs: the fields of :class:`HighresSettings`, in its order (``downsample`` first).

    Example:
        >>> preset = highres_transforms(downsample=4, patch_size=(512, 512))
        >>> [type(t).__name__ for t in preset.deterministic.transforms][:4]
        ['LoadMammogramd', 'TrimBorderd', 'CropBreastd', 'FastResized']
        >>> [type(t).__name__ for t in preset.random.transforms][:2]
        ['SpatialPadd', 'RandCropByPosNegLabeld']
        >>> patches = preset.train()({"image": "a.dcm", "label": ["m.dcm"], "laterality": "RIGHT"})  # doctest: +SKIP
        >>> len(patches), tuple(patches[0]["image"].shape)  # doctest: +SKIP
        (4, (1, 512, 512))
    """
    return HighresSettings(*args, **kwargs).preset()
