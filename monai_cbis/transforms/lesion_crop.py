"""The lesion crop of paper B's inputs when an item may come without its mask: :class:`LesionCropd`.

Training and evaluation items have a lesion mask, and :class:`~monai_cbis.transforms.CropByROId` crops around it.
Inference items may instead carry a lesion box (from a datalist or a detector) or nothing at all (a folder of
films, a MONAI Label request). :class:`LesionCropd` crops all three kinds alike: by the mask when the item has one,
else by the box with the same margin / square / min_size rules, else the whole image; every path records one
invertible crop, so the items look the same downstream and ``inverse`` maps predictions back onto the film.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
import torch
from monai.config import KeysCollection

from .checks import keyed_errors
from .crop import CropByROId
from .views import spatial_shape, to_numpy

__all__ = ["LesionCropd"]


class LesionCropd(CropByROId):
    """:class:`~monai_cbis.transforms.CropByROId` with fall-backs for items without a mask.

    The crop box comes from, in this order:

    1. the mask under ``roi_key``, when the item has that key: exactly :class:`~monai_cbis.transforms.CropByROId`;
    2. the box under ``box_key``, when the item has one (not None): ``[x0, y0, x1, y1]`` in full-image pixels,
       x = spatial axis 0 = columns, ends exclusive, as :class:`~monai_cbis.transforms.MaskToBox` writes them,
       grown by the same ``margin`` / ``square`` / ``min_size`` rules
       (:meth:`~monai_cbis.transforms.CropByROI.expand_box`);
    3. else the whole image under ``image_key``.

    Each path records one crop (``roi_start`` / ``roi_end`` and the crop in ``applied_operations``), so ``inverse``
    works on all items alike. As its parent, it reads the current pixels (``requires_current_data``) and honours
    ``lazy``. A mask with no lesion in it still raises (unless ``on_empty="full"``): the fall-backs are for items
    without a mask, not for empty masks.

    Args:
        keys: keys to crop (the image, and the mask when it is cropped too; pass ``allow_missing_keys=True`` when
            some items lack a key listed here, e.g. the mask).
        roi_key: the lesion mask (may be absent from an item).
        box_key: the lesion box (may be absent or None); None: ignore boxes.
        image_key: the image whose spatial size bounds the box and gives the whole-image crop.
        kwargs: the other arguments of :class:`~monai_cbis.transforms.CropByROId`, with its defaults: ``margin``,
            ``min_size``, ``square``, ``threshold``, ``on_empty`` (the crop rules, for the box too),
            ``start_coord_key`` / ``end_coord_key`` (where the box is recorded), ``allow_missing_keys``, ``lazy``.

    Raises:
        ValueError: naming the key, for a box that is not four finite numbers, or that is empty or outside the
            image; and whatever :class:`~monai_cbis.transforms.CropByROId` raises for a mask.

    Example:
        >>> import numpy as np
        >>> crop = LesionCropd("image", margin=5)
        >>> out = crop({"image": np.zeros((1, 100, 80)), "box": [40, 30, 50, 36]})  # no mask: the box plus 5 px
        >>> out["roi_start"].tolist(), out["roi_end"].tolist(), tuple(crop.inverse(out)["image"].shape)
        ([35, 25], [55, 41], (1, 100, 80))
        >>> crop({"image": np.zeros((1, 100, 80))})["roi_end"].tolist()  # neither: the whole image, as a crop
        [100, 80]
    """

    def __init__(
        self,
        keys: KeysCollection,
        roi_key: str = "mask",
        box_key: str | None = "box",
        image_key: str = "image",
        **kwargs,
    ) -> None:
        super().__init__(keys, roi_key=roi_key, **kwargs)
        self.box_key, self.image_key = box_key, image_key

    def box_crop(self, box, shape: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(start, end)`` of the crop for a lesion ``box`` ``[x0, y0, x1, y1]`` (list, array or tensor; fractional
        corners widen to whole pixels), clipped to an image of spatial ``shape`` ``(W, H)``."""
        b = np.asarray(to_numpy(box), dtype=np.float64).reshape(-1)
        if b.size != 4 or not np.all(np.isfinite(b)):
            raise ValueError(f"expected one box [x0, y0, x1, y1], got {box!r}.")
        lo, hi = np.floor(b[:2]).astype(np.int64), np.ceil(b[2:]).astype(np.int64)
        if np.any(hi <= lo) or np.any(hi <= 0) or np.any(lo >= shape):
            raise ValueError(
                f"box {b.tolist()} is empty or outside the image (spatial shape (W, H) = {tuple(shape.tolist())}); "
                "expected x0 < x1, y0 < y1 overlapping [0, W) x [0, H), in full-image pixels, x = column."
            )
        return self.cropper.expand_box(lo, hi, shape)

    def __call__(self, data: Mapping[Hashable, torch.Tensor], lazy: bool | None = None) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        if self.roi_key in d:
            return super().__call__(d, lazy)
        shape = np.asarray(spatial_shape(d[self.image_key]), dtype=np.int64)
        if self.box_key is not None and d.get(self.box_key) is not None:
            start, end = keyed_errors(type(self).__name__, self.box_key, self.box_crop, d[self.box_key], shape)
        else:
            start, end = np.zeros(2, dtype=np.int64), shape
        return self.crop_to_box(d, start, end, lazy)
