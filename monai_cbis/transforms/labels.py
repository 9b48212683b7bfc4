"""Class labels for the classifiers: :class:`ClassIndex` turns an item's label into an int64 class index.

MONAI's ``EnsureTyped(dtype=torch.int64)`` would pass a string such as ``"MALIGNANT"`` through unchanged and
truncate ``1.7`` to 1 without a word; here both are errors that show the value. The output is a 0-d int64 tensor,
so a batch of labels collates to shape ``(B,)``, what ``CrossEntropyLoss`` wants as its target.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends

from ..data.sampling import class_index
from .checks import keyed_errors

__all__ = ["ClassIndex", "ClassIndexd"]


class ClassIndex(Transform):
    """A class label (int, integral float, numpy integer, one-element tensor) as a 0-d int64 tensor.

    Args:
        num_classes: when given, the index must be below it.

    Raises:
        ValueError: a value that is not a non-negative integer (a string, ``1.5``, ``None``...), or one out of range;
            the message shows the value and the allowed range.

    Example:
        >>> ClassIndex()(1), ClassIndex()(1.0).dtype
        (tensor(1), torch.int64)
    """

    backend = [TransformBackends.TORCH]

    def __init__(self, num_classes: int | None = None) -> None:
        if num_classes is not None and int(num_classes) < 1:
            raise ValueError(f"num_classes must be >= 1 (or None for no upper bound), got {num_classes}.")
        self.num_classes = None if num_classes is None else int(num_classes)

    def __call__(self, label) -> torch.Tensor:
        return torch.tensor(class_index(label, self.num_classes), dtype=torch.int64)


class ClassIndexd(MapTransform):
    """Dictionary twin of :class:`ClassIndex`.

    Args:
        keys: the label keys.
        num_classes: as for :class:`ClassIndex`.
        allow_missing_keys: pass items that lack a key (inference items without a label); False by default, as
            everywhere in MONAI, so that a training item without its label is an error.

    Example:
        >>> ClassIndexd("label")({"label": 1, "image": "a.dcm"})["label"]
        tensor(1)
        >>> ClassIndexd("label", allow_missing_keys=True)({"image": "a.dcm"})
        {'image': 'a.dcm'}
    """

    backend = ClassIndex.backend

    def __init__(
        self, keys: KeysCollection = "label", num_classes: int | None = None, allow_missing_keys: bool = False
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.converter = ClassIndex(num_classes)

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = keyed_errors(type(self).__name__, key, self.converter, d[key])
        return d
