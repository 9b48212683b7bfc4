"""Scoring a whole-film segmenter at the film's original geometry (issue 14's comparison).

A bundle scores its predictions at its working resolution by default (224 x 224 for paper A, the downsampled breast
crop for the patch bundle), so two bundles' figures are not computed on the same pixels. With ``eval_geometry
original`` their evaluation moves each prediction back onto the original film with the inversion inference uses
(MONAI's ``Invertd`` through the preset's deterministic part: resize, flip, breast crop and trim undone) and scores
it against the ground truth read again from the item's own mask files at full size:

* :class:`ThresholdToKeyd` makes the binary prediction from the inverted probabilities as inference does
  (``prob >= 0.5``), as uint8, without a second float32 copy of a full-size film;
* :class:`FilmMasks` loads an item's lesion masks (one file per CSV row) and returns the merged {0, 1} label and the
  lesion index map (:class:`~monai_cbis.transforms.MergeMasks`, :class:`~monai_cbis.transforms.LesionIndexMap`:
  the same rules as the presets), uint8, with the film's metadata (its pixel spacing gives areas in mm^2);
* :class:`FilmMasksd` finds those files by the image's file name among the evaluated section's image-level items
  and replaces the working-resolution label and index map.

Memory on a 5000 x 3000 film: one float32 probability map (60 MB), uint8 masks (15 MB each).

Example:
    >>> import numpy as np
    >>> out = ThresholdToKeyd("pred_prob", "pred")({"pred_prob": np.array([[[0.2, 0.5, 0.9]]], np.float32)})
    >>> out["pred"].tolist(), out["pred"].dtype.name
    ([[[0, 1, 1]]], 'uint8')
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable, Mapping

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import MapTransform, Transform
from monai.utils import convert_to_dst_type, ensure_tuple, ensure_tuple_rep

from .io import LoadMammogram
from .masks import LesionIndexMap, MergeMasks
from .views import to_numpy

__all__ = ["ThresholdToKeyd", "FilmMasks", "FilmMasksd", "GEOMETRIES"]

#: Where an evaluation scores: the bundle's working grid (default) or the original film.
GEOMETRIES = ("working", "original")


class ThresholdToKeyd(MapTransform):
    """``names[i] = (data[keys[i]] >= threshold)`` as uint8 (same type and metadata as the source), replacing any
    value under that name: the binary mask of a probability map, kept beside it.

    Args:
        keys: the probability maps (e.g. ``"pred_prob"``).
        names: the keys that receive the masks (e.g. ``"pred"``), one per key.
        threshold: lesion is ``value >= threshold`` (inference's ``AsDiscreted(threshold=0.5)``).
        allow_missing_keys: as MONAI's ``MapTransform``.
    """

    def __init__(
        self, keys: KeysCollection, names: KeysCollection, threshold: float = 0.5, allow_missing_keys: bool = False
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.names = ensure_tuple_rep(names, len(self.keys))
        self.threshold = float(threshold)

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key, name in self.key_iterator(d, self.names):
            mask = (to_numpy(d[key]) >= self.threshold).astype(np.uint8)
            d[name] = convert_to_dst_type(mask, dst=d[key], dtype=np.uint8)[0]
        return d


class FilmMasks(Transform):
    """An item's lesion mask files, at the film's own size, as ``(label, index)``: the merged {0, 1} label
    ``(1, W, H)`` and the lesion index map ``(1, W, H)`` (0 background, k the k-th file), uint8 MetaTensors with the
    first file's metadata (``spacing``, ``affine``; ``filename_or_obj`` the first file).

    Args:
        threshold: the mask threshold (None: the half-range rule of :func:`~monai_cbis.transforms.masks.binarize`).

    Raises:
        ValueError: no mask file, or files of different sizes (the reader names them).
    """

    def __init__(self, threshold: float | None = None) -> None:
        self.loader = LoadMammogram()
        self.merge, self.index = MergeMasks(threshold), LesionIndexMap(threshold)

    def __call__(self, files: str | Iterable[str]) -> tuple[MetaTensor, MetaTensor]:
        files = [str(f) for f in ensure_tuple(files)]
        if not files:
            raise ValueError("FilmMasks needs at least one mask file, got none.")
        stack = self.loader(files if len(files) > 1 else files[0])  # (N, W, H) in the files' own dtype
        if stack.ndim == 2:
            stack = stack[None]
        return self.merge(stack), self.index(stack)


def _norm(path) -> str:
    return os.path.normcase(os.path.realpath(os.path.abspath(str(path))))


def _image_file(value) -> str | None:
    meta = getattr(value, "meta", None)
    name = meta.get("filename_or_obj") if isinstance(meta, Mapping) else None
    if isinstance(name, (list, tuple)):
        name = name[0] if len(name) == 1 else None
    return str(name) if name else None


def _film_spacing(label: MetaTensor, index: MetaTensor, film: Mapping, files: list[str]) -> None:
    """Check the masks against the film's original size, and give masks without a pixel spacing of their own (PNG,
    untagged DICOM) the film's: its ``original_affine``, not the working grid's ``affine``."""
    shape = film.get("spatial_shape")
    if shape is not None and tuple(int(s) for s in np.asarray(shape).reshape(-1)[:2]) != tuple(label.shape[1:]):
        raise ValueError(
            f"FilmMasksd: the masks {files} are {tuple(label.shape[1:])} (W, H), their film "
            f"{tuple(np.asarray(shape).tolist())}: masks must have their film's size; fix or drop the item."
        )
    source = film.get("spacing_source")
    if label.meta.get("spacing_source") not in (None, "default") or source in (None, "default"):
        return
    if film.get("original_affine") is None:
        return
    for t in (label, index):
        t.meta["affine"] = torch.as_tensor(np.asarray(film["original_affine"], np.float64))
        t.meta["spacing"], t.meta["spacing_source"] = film.get("spacing"), source


class FilmMasksd(MapTransform):
    """Replace each key's working-resolution label with :class:`FilmMasks` of the item's own mask files, and the
    index map under ``index_keys`` with theirs.

    The files are the ``mask_key`` list of the item in ``items`` whose ``image_key`` file is the image's
    ``filename_or_obj`` (the evaluated section's image-level items: the bundles pass ``@validate#section_items``).

    Args:
        keys: the label keys to replace (``"label"``).
        items: the image-level items (dicts with ``image_key`` and ``mask_key``).
        image_key: the key of the image whose file names the item (its MetaTensor's ``filename_or_obj``).
        index_keys: the keys of the lesion index maps to replace, one per key (None: leave the map alone).
        mask_key: the key of the items' list of mask files (default: the key itself).
        threshold, allow_missing_keys: as :class:`FilmMasks` and MONAI's ``MapTransform``.

    Raises:
        KeyError: an image that is none of ``items``' (the message names it and says where the items come from).
    """

    def __init__(
        self,
        keys: KeysCollection,
        items: Iterable[Mapping],
        image_key: str = "image",
        index_keys: KeysCollection | None = "label_index",
        mask_key: str | None = None,
        threshold: float | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.image_key, self.mask_key = image_key, mask_key
        self.index_keys = ensure_tuple_rep(index_keys, len(self.keys))
        self.items = list(items)
        self.masks = FilmMasks(threshold)
        self._by_image: dict[str, Mapping] | None = None

    def _files(self, image, key: Hashable) -> list[str]:
        if self._by_image is None:
            self._by_image = {_norm(it[self.image_key]): it for it in self.items if it.get(self.image_key)}
        name = _image_file(image)
        item = self._by_image.get(_norm(name)) if name else None
        field = self.mask_key or key
        if item is None or not item.get(field):
            raise KeyError(
                f"FilmMasksd: no mask files for image {name!r} among the {len(self.items)} evaluated items (key "
                f"{field!r}). Scoring at the original geometry needs the image-level items of the evaluated section "
                "(items=@validate#section_items); use eval_geometry 'working' for items without full-film masks."
            )
        return [str(f) for f in ensure_tuple(item[field])]

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key, index_key in self.key_iterator(d, self.index_keys):
            files = self._files(d[self.image_key], key)
            label, index = self.masks(files)
            _film_spacing(label, index, getattr(d[self.image_key], "meta", {}), files)
            d[key] = label
            if index_key is not None:
                d[index_key] = index
        return d
