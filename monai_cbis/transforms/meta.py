"""Metadata transforms for bundle post-processing."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import MapTransform

__all__ = ["CopyFilenamed", "FlattenDictd"]


class CopyFilenamed(MapTransform):
    """Give ``keys`` the ``filename_or_obj`` of ``source_key`` (so ``SaveImaged`` names the output after it).

    Paper B's ROI bundles predict one mask per lesion, and a mammogram can hold several lesions: naming each output
    after the ROI mask it refines keeps them apart. Items without ``source_key`` (or without its file name) are
    left as they are, so whole images without a mask keep their own name.

    Example:
        >>> t = CopyFilenamed("pred", source_key="mask")
        >>> d = t({"pred": MetaTensor([0.0], meta={"filename_or_obj": "a/1-1.dcm"}),
        ...        "mask": MetaTensor([0.0], meta={"filename_or_obj": "b/1-2.dcm"})})
        >>> d["pred"].meta["filename_or_obj"]
        'b/1-2.dcm'
    """

    def __init__(self, keys: KeysCollection, source_key: str, allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.source_key = source_key

    def __call__(self, data: Mapping[Hashable, object]) -> dict:
        d = dict(data)
        source = d.get(self.source_key)
        name = source.meta.get("filename_or_obj") if isinstance(source, MetaTensor) else None
        if not name:
            return d
        for key in self.key_iterator(d):
            if isinstance(d[key], MetaTensor):
                d[key].meta["filename_or_obj"] = name
        return d


class FlattenDictd(MapTransform):
    """Move the entries of the dict under each key to the top level of the item (and drop the key).

    A detector's evaluator gives ``{"image", "pred": {"box", "label", "label_scores"}}``; MONAI Label's detection task
    gives those keys at the top level. Flattening first lets one inference post-processing serve both (without the
    key, as in MONAI Label, nothing changes).

    Example:
        >>> FlattenDictd("pred")({"image": 0, "pred": {"box": 1, "label": 2}, "label": None})
        {'image': 0, 'label': 2, 'box': 1}
    """

    def __init__(self, keys: KeysCollection, allow_missing_keys: bool = True) -> None:
        super().__init__(keys, allow_missing_keys)

    def __call__(self, data: Mapping[Hashable, object]) -> dict:
        d = dict(data)
        for key in self.key_iterator(d):
            inner = d.pop(key)
            if isinstance(inner, Mapping):
                d.update(inner)
        return d
