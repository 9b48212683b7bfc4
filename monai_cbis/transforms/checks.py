"""What the transforms check of their input, and how their errors read: the transform's name, the data key and the
bad shape come first, so that a failure deep in a ``Compose`` says which item part was wrong and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping

import numpy as np
import torch

from .views import spatial_shape

__all__ = ["keyed_errors", "check_single_channel", "check_spatial_shapes"]


def keyed_errors(transform_name: str, key: Hashable, fn: Callable, *args, **kwargs):
    """Call ``fn``; re-raise a ValueError with the transform name and the data key in front of its message.

    Example:
        >>> def fail():
        ...     raise ValueError("bad")
        >>> try:
        ...     keyed_errors("MyTransformd", "image", fail)
        ... except ValueError as e:
        ...     print(e)
        MyTransformd: key 'image': bad
    """
    try:
        return fn(*args, **kwargs)
    except ValueError as e:
        raise ValueError(f"{transform_name}: key '{key}': {e}") from e


def check_single_channel(img: np.ndarray | torch.Tensor, name: str) -> None:
    """Raise a ValueError naming the transform when ``img`` is not a one-channel ``(1, W, H)`` image."""
    shape = tuple(img.shape)
    if len(shape) != 3 or shape[0] != 1:
        raise ValueError(
            f"{name} expects a single-channel 2-D image of shape (1, W, H), got shape {shape}. Load grey images "
            "(CBISImageReader reduces equal RGB channels to one), or select one channel first, "
            "e.g. monai.transforms.SplitDim or img[:1]."
        )


def check_spatial_shapes(
    name: str,
    d: Mapping,
    keys: Iterable[Hashable],
    reference_key: Hashable,
    key_kind: str = "key",
    reference_kind: str = "",
) -> None:
    """Raise a ValueError when one of ``keys`` in ``d`` differs in spatial shape from ``d[reference_key]``.

    Args:
        name: the transform, first in the message.
        d: the item.
        keys: the keys that must match (the reference key among them is fine).
        reference_key: the key whose spatial shape the others must have.
        key_kind, reference_kind: words naming the roles in the message, e.g. ``"mask"`` and ``"image "``.

    Example:
        >>> import numpy as np
        >>> item = {"image": np.zeros((1, 20, 20)), "label": np.zeros((1, 20, 21))}
        >>> try:
        ...     check_spatial_shapes("Cropd", item, ["label"], "image")
        ... except ValueError as e:
        ...     print(str(e).split(" (full")[0])
        Cropd: key 'label' has spatial shape (20, 21) but 'image' has (20, 20)
    """
    want = spatial_shape(d[reference_key])
    for key in keys:
        got = spatial_shape(d[key])
        if got != want:
            raise ValueError(
                f"{name}: {key_kind} '{key}' has spatial shape {got} but {reference_kind}'{reference_key}' has {want} "
                f"(full shapes {tuple(d[key].shape)} and {tuple(d[reference_key].shape)}); a mask must have its "
                "image's size."
            )
