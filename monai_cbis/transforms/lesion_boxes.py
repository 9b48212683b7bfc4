"""Detection ground truth and box geometry between pixel grids: :class:`LesionBoxesd` (one box per CSV lesion, in
the original film's pixels), :class:`OriginalToImageBoxd` (those boxes onto the preprocessed image) and
:class:`ImageToOriginalBoxd` (predicted boxes back onto the original film).

Boxes are MONAI's ``StandardMode`` ``[x_min, y_min, x_max, y_max]`` over spatial axes 0 and 1 (our ``(C, W, H)``
layout: x = column, y = row) with pixel *edges* as coordinates: pixel ``i`` spans ``[i, i + 1)``, so a box of
pixels 2..4 is ``[2, 5)`` (MONAI's ``TO_REMOVE == 0``; its ``FlipBox`` maps ``x -> W - x``).

The geometry comes from the image's own metadata, not from a list of operations: the reader writes the pixel
grid's affine twice (``original_affine`` and ``affine``) and every geometry transform of this package (crops,
:class:`~monai_cbis.transforms.FastResize`, :class:`~monai_cbis.transforms.FlipToLeft`) updates ``affine`` as MONAI's
own do. ``inv(original_affine) @ affine`` therefore maps a pixel *centre* of the current image onto the original
film; an edge coordinate ``e`` is the centre coordinate ``e - 0.5``, so boxes go through
``e -> M (e - 0.5) + 0.5`` (exact for crops, resizes and flips).

Example:
    >>> import numpy as np, torch
    >>> from monai.data import MetaTensor
    >>> from monai_cbis.transforms import FastResize, FlipToLeft
    >>> film = MetaTensor(torch.zeros(1, 200, 100), affine=torch.eye(3, dtype=torch.float64))
    >>> film.meta["original_affine"] = film.affine.clone()
    >>> small = FlipToLeft()(FastResize(50, size_mode="longest")(film), laterality="RIGHT")  # (1, 50, 25)
    >>> d = OriginalToImageBoxd("box", "image")({"image": small, "box": torch.tensor([[0.0, 0.0, 40.0, 20.0]])})
    >>> d["box"].tolist()
    [[40.0, 0.0, 50.0, 5.0]]
    >>> ImageToOriginalBoxd("box", "image")(d)["box"].tolist()
    [[0.0, 0.0, 40.0, 20.0]]
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import torch
from monai.apps.detection.transforms.box_ops import apply_affine_to_boxes
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.data.box_utils import clip_boxes_to_image
from monai.transforms import MapTransform

from .boxes import foreground_bbox
from .checks import keyed_errors
from .masks import mask_threshold
from .views import spatial_shape, to_numpy

__all__ = [
    "LESION_TYPE_CLASSES",
    "PATHOLOGY_CLASSES",
    "lesion_class_map",
    "lesion_class_names",
    "LesionBoxesd",
    "grid_to_original",
    "OriginalToImageBoxd",
    "ImageToOriginalBoxd",
]

#: Detection classes by lesion type (the default label) and by pathology (``BENIGN_WITHOUT_CALLBACK`` is benign).
LESION_TYPE_CLASSES = ("mass", "calcification")
PATHOLOGY_CLASSES = ("benign", "malignant")

_CLASS_MAPS = {
    "abnormality_types": {"mass": 0, "calcification": 1},
    "pathologies": {"BENIGN": 0, "BENIGN_WITHOUT_CALLBACK": 0, "MALIGNANT": 1},
}


def lesion_class_map(class_key: str) -> dict[str, int]:
    """The string -> class index map of an image item's per-lesion field (``abnormality_types`` or ``pathologies``).

    Example:
        >>> lesion_class_map("pathologies")["BENIGN_WITHOUT_CALLBACK"]
        0
    """
    if class_key not in _CLASS_MAPS:
        raise ValueError(f"Unsupported class_key: {class_key!r}, available options are {list(_CLASS_MAPS)}.")
    return dict(_CLASS_MAPS[class_key])


def lesion_class_names(class_key: str) -> tuple[str, ...]:
    """The detection class names of ``class_key`` (index order).

    Example:
        >>> lesion_class_names("abnormality_types")
        ('mass', 'calcification')
    """
    lesion_class_map(class_key)
    return LESION_TYPE_CLASSES if class_key == "abnormality_types" else PATHOLOGY_CLASSES


class LesionBoxesd(MapTransform):
    """One box per CSV lesion: each channel of the loaded mask stack (an image item's ``label`` list, one mask per
    abnormality row) gives the box of its whole foreground, in the mask's pixel grid (load it before any
    geometry, so the box is the film's). The masks are replaced by the class indices.

    A mask channel without foreground (an empty or all-background mask) gives no box: it is counted in
    ``dropped_key`` (a later step that drops boxes adds to the same count) and the item keeps the other boxes.

    Args:
        mask_key: the loaded ``(N, W, H)`` mask stack; after the call this key holds the ``(N',)`` int64 labels
            unless ``label_key`` differs.
        box_key: where the float32 ``(N', 4)`` boxes go.
        label_key: where the int64 ``(N',)`` class indices go (default: replace the masks).
        class_key: the item's per-lesion field (``pathologies``: one per mask) or per-image field
            (``abnormality_types``: one value for all masks of the film); None: every lesion is class 0.
        dropped_key: the count of lesions that gave no box.
        threshold: foreground above it; None: the half-range rule (:func:`~monai_cbis.transforms.masks.mask_threshold`).

    Raises:
        ValueError: naming the key, for a class list whose length is neither 1 nor the number of masks, or a class
            value outside :func:`lesion_class_map`.

    Example:
        >>> import numpy as np
        >>> m = np.zeros((2, 10, 8), np.uint8); m[0, 1:3, 2:5] = 255  # the second mask is empty
        >>> d = LesionBoxesd("label", class_key="pathologies")({"label": m, "pathologies": ["BENIGN", "MALIGNANT"]})
        >>> d["box"].tolist(), d["label"].tolist(), d["lesions_dropped"]
        ([[1.0, 2.0, 3.0, 5.0]], [0], 1)
    """

    def __init__(
        self,
        mask_key: str = "label",
        box_key: str = "box",
        label_key: str | None = None,
        class_key: str | None = "abnormality_types",
        dropped_key: str = "lesions_dropped",
        threshold: float | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(mask_key, allow_missing_keys)
        self.mask_key, self.box_key = mask_key, box_key
        self.label_key = label_key or mask_key
        self.class_key, self.dropped_key, self.threshold = class_key, dropped_key, threshold
        self.class_map = lesion_class_map(class_key) if class_key is not None else {}

    def _classes(self, d: Mapping, n: int) -> list[int]:
        if self.class_key is None:
            return [0] * n
        value = d[self.class_key]
        values = [value] if isinstance(value, str) else list(value)
        if len(values) == 1:
            values = values * n
        if len(values) != n:
            raise ValueError(
                f"LesionBoxesd: '{self.class_key}' holds {len(values)} values {values} for {n} masks; give one per "
                "mask or one for all."
            )
        bad = [v for v in values if v not in self.class_map]
        if bad:
            raise ValueError(f"LesionBoxesd: '{self.class_key}' value(s) {bad} not in {sorted(self.class_map)}.")
        return [self.class_map[v] for v in values]

    def _boxes(self, mask) -> tuple[np.ndarray, np.ndarray]:
        m = to_numpy(mask)
        if m.ndim == 2:
            m = m[None]
        if m.ndim != 3:
            raise ValueError(f"expects a channel-first mask stack (N, W, H), got shape {tuple(m.shape)}.")
        boxes, kept = [], []
        for c in range(m.shape[0]):
            box = foreground_bbox(m[c], mask_threshold(m[c], self.threshold))
            if box is not None:
                s0, e0, s1, e1 = box
                boxes.append([s0, s1, e0, e1])
                kept.append(c)
        return np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(kept, np.int64)

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        for key in self.key_iterator(d):
            mask = d[key]
            boxes, kept = keyed_errors(type(self).__name__, key, self._boxes, mask)
            n = int(to_numpy(mask).shape[0]) if to_numpy(mask).ndim == 3 else 1
            classes = np.asarray(self._classes(d, n), np.int64)[kept]
            d[self.box_key] = torch.as_tensor(boxes)
            d[self.label_key] = torch.as_tensor(classes)
            d[self.dropped_key] = int(d.get(self.dropped_key, 0)) + n - len(kept)
        return d


def grid_to_original(image: MetaTensor) -> torch.Tensor:
    """The ``(3, 3)`` affine from a pixel centre of ``image`` to the same point's pixel centre in the original film
    (``inv(original_affine) @ affine``, float64).

    Raises:
        ValueError: ``image`` is no MetaTensor with ``affine`` and ``original_affine`` (load it with
            :class:`~monai_cbis.transforms.LoadMammogramd`).
    """
    if not isinstance(image, MetaTensor) or "original_affine" not in image.meta:
        raise ValueError(
            "box geometry needs the image's MetaTensor metadata ('affine' and 'original_affine', written by "
            "LoadMammogramd); got "
            + (type(image).__name__ if not isinstance(image, MetaTensor) else "no original_affine")
        )
    current = torch.as_tensor(image.affine, dtype=torch.float64)
    original = torch.as_tensor(np.asarray(image.meta["original_affine"]), dtype=torch.float64)
    return torch.linalg.solve(original, current)


def _move(boxes, affine: torch.Tensor):
    b = torch.as_tensor(to_numpy(boxes), dtype=torch.float64).reshape(-1, 4)
    if b.numel() == 0:
        return torch.zeros((0, 4), dtype=torch.float32)
    return (apply_affine_to_boxes(b - 0.5, affine) + 0.5).to(torch.float32)


class OriginalToImageBoxd(MapTransform):
    """Move boxes given in the original film's pixels onto the current (cropped, resized, flipped) image, clip them
    to it with MONAI's ``clip_boxes_to_image`` and drop those left empty (a lesion outside the breast crop), adding
    the number dropped to ``dropped_key`` and removing their labels from ``label_keys``.

    Args:
        keys: box keys; image_key: the preprocessed image (a MetaTensor); label_keys: labels to drop with their
            boxes (one per box key, or None); dropped_key: the running count of lesions without a box.

    Example: see the module docstring.
    """

    def __init__(
        self,
        keys: KeysCollection,
        image_key: str = "image",
        label_keys: KeysCollection | None = None,
        dropped_key: str = "lesions_dropped",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.image_key, self.dropped_key = image_key, dropped_key
        labels: Sequence = [label_keys] if isinstance(label_keys, str) else list(label_keys or [])
        self.label_keys = dict(zip(self.keys, list(labels) + [None] * (len(self.keys) - len(labels)), strict=False))

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        keys = list(self.key_iterator(d))
        if not keys:
            return d
        image = d[self.image_key]
        to_image = torch.linalg.inv(keyed_errors(type(self).__name__, self.image_key, grid_to_original, image))
        size = spatial_shape(image)
        for key in keys:
            moved = _move(d[key], to_image)
            clipped, keep = clip_boxes_to_image(moved, size, remove_empty=True)
            d[key] = clipped.to(torch.float32)
            label_key = self.label_keys.get(key)
            if label_key is not None and label_key in d:
                d[label_key] = torch.as_tensor(to_numpy(d[label_key]))[torch.as_tensor(keep)]
            d[self.dropped_key] = int(d.get(self.dropped_key, 0)) + int(len(moved) - len(clipped))
        return d


class ImageToOriginalBoxd(MapTransform):
    """Move boxes predicted on the preprocessed image back onto the original film's pixels (crop, resize and flip
    undone; see the module docstring). Run it after the network, with the preprocessed image still in the item.

    Example: see the module docstring.
    """

    def __init__(self, keys: KeysCollection, image_key: str = "image", allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.image_key = image_key

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        keys = list(self.key_iterator(d))
        if not keys:
            return d
        to_original = keyed_errors(type(self).__name__, self.image_key, grid_to_original, d[self.image_key])
        for key in keys:
            d[key] = _move(d[key], to_original)
        return d
