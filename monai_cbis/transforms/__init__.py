"""MONAI transforms for CBIS-DDSM mammograms: loading, enhancement, invertible crops, boxes, class labels, presets
and caching.

Every array transform has a dictionary twin (``...d``); geometry-changing ones are invertible. Arrays follow MONAI's
2-D convention ``(C, W, H)`` (spatial axis 0 = x = columns); see :mod:`monai_cbis.transforms.io`.
"""

from __future__ import annotations

from .batch_augment import RandBatchAugment, RandBatchAugmentd
from .box_items import box_items
from .boxes import MaskToBox, MaskToBoxd
from .breast_gate import GateBoxesByBreastd, GateByBreast, GateByBreastd, boxes_in_breast, breast_box, breast_mask
from .cache import (
    AtomicPersistentDataset,
    cached_dataset,
    item_fingerprint,
    memory_cached_dataset,
    transform_fingerprint,
)
from .crop import CropBreast, CropBreastd, CropByROI, CropByROId, TrimBorder, TrimBorderd
from .crop_scale import film_scale
from .film_geometry import GEOMETRIES, FilmMasks, FilmMasksd, ThresholdToKeyd
from .intensity import CLAHE, CLAHEd, MedianFilter, MedianFilterd
from .io import CBISImageReader, LoadMammogram, LoadMammogramd, LoadMammogramIfPresentd
from .labels import ClassIndex, ClassIndexd
from .lesion_boxes import (
    ImageToOriginalBoxd,
    LesionBoxesd,
    OriginalToImageBoxd,
    grid_to_original,
    lesion_class_names,
)
from .lesion_crop import LesionCropd
from .loader import collate_without_meta, train_loader
from .masks import LesionIndexMap, MergeMasks, MergeMasksd, NormalizeMask, NormalizeMaskd
from .meta import CopyFilenamed, FlattenDictd
from .opencv_augment import RandOpenCVAugment, RandOpenCVAugmentd
from .pixel_spacing import ResizeToSpacing, ResizeToSpacingd, film_spacing_mm
from .presets import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    PRESETS,
    Preset,
    detection_transforms,
    full_mammogram_transforms,
    get_preset,
    highres_transforms,
    lesion_classification_transforms,
    preset_compose,
    roi_crop_transforms,
)
from .readable import item_files, readable_items
from .spatial import FastResize, FastResized, FlipToLeft, FlipToLeftd

__all__ = [
    "RandBatchAugment",
    "RandBatchAugmentd",
    "RandOpenCVAugment",
    "RandOpenCVAugmentd",
    "FilmMasks",
    "FilmMasksd",
    "GEOMETRIES",
    "ThresholdToKeyd",
    "CBISImageReader",
    "LoadMammogram",
    "LoadMammogramd",
    "LoadMammogramIfPresentd",
    "NormalizeMask",
    "NormalizeMaskd",
    "MergeMasks",
    "MergeMasksd",
    "LesionIndexMap",
    "CLAHE",
    "CLAHEd",
    "MedianFilter",
    "MedianFilterd",
    "TrimBorder",
    "TrimBorderd",
    "CropBreast",
    "CropBreastd",
    "CropByROI",
    "CropByROId",
    "LesionCropd",
    "FlipToLeft",
    "FlipToLeftd",
    "FastResize",
    "FastResized",
    "ResizeToSpacing",
    "ResizeToSpacingd",
    "film_spacing_mm",
    "MaskToBox",
    "MaskToBoxd",
    "GateByBreast",
    "GateByBreastd",
    "GateBoxesByBreastd",
    "breast_box",
    "breast_mask",
    "boxes_in_breast",
    "LesionBoxesd",
    "OriginalToImageBoxd",
    "ImageToOriginalBoxd",
    "grid_to_original",
    "lesion_class_names",
    "ClassIndex",
    "ClassIndexd",
    "CopyFilenamed",
    "FlattenDictd",
    "Preset",
    "PRESETS",
    "full_mammogram_transforms",
    "roi_crop_transforms",
    "lesion_classification_transforms",
    "detection_transforms",
    "highres_transforms",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "get_preset",
    "preset_compose",
    "AtomicPersistentDataset",
    "cached_dataset",
    "memory_cached_dataset",
    "collate_without_meta",
    "train_loader",
    "transform_fingerprint",
    "item_fingerprint",
    "readable_items",
    "box_items",
    "item_files",
    "film_scale",
]
