"""Class balance for the benign/malignant classifiers without copying any image: counts, loss weights, a sampler.

Items are datalist entries (dicts) whose ``label_key`` holds an int class index (``0 .. num_classes - 1``; a
0-d or one-element integer tensor, a numpy integer or an integral float such as ``1.0`` are accepted too). Two
remedies for an unbalanced training set, usually one or the other, not both:

* :func:`class_weights` for ``torch.nn.CrossEntropyLoss(weight=...)``: every item is seen once per epoch, rare
  classes count more in the loss;
* :func:`class_balanced_sampler` for the ``DataLoader``: items of rare classes are drawn more often (with
  replacement), so every class is drawn equally often in expectation; the loss stays unweighted.

A classifier bundle picks one with its ``class_balance`` setting (:data:`CLASS_BALANCE`): :func:`train_sampler`
and :func:`loss_class_weights` read it, so the config holds no branch. In a bundle config::

    "sampler": {"_target_": "monai_cbis.data.train_sampler", "items": "@train#items",
                "class_balance": "@class_balance", "seed": "@seed"},
    "dataloader": {"_target_": "DataLoader", "dataset": "@train#dataset", "sampler": "@train#sampler",
                   "shuffle": "$@train#sampler is None", ...},
    "loss": {"_target_": "torch.nn.CrossEntropyLoss", "weight": {"_target_": "monai_cbis.data.loss_class_weights",
             "items": "@train#items", "class_balance": "@class_balance", "num_classes": "@num_classes"}}
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import Sampler, WeightedRandomSampler

__all__ = [
    "CLASS_BALANCE",
    "class_index",
    "class_counts",
    "class_weights",
    "class_balanced_sampler",
    "loss_class_weights",
    "train_sampler",
]

#: How the classifiers balance benign and malignant: a weighted sampler, loss weights, or not at all.
CLASS_BALANCE = ("sampler", "loss_weights", "none")


def class_index(value, num_classes: int | None = None) -> int:
    """``value`` as a class index (a Python int), or a ValueError showing the value and what is allowed.

    Accepted: ints (not bools), numpy integers, integral floats (``1.0``), and integer tensors / arrays holding one
    value; the index must be ``>= 0`` and, when ``num_classes`` is given, ``< num_classes``.

    Example:
        >>> class_index(1), class_index(1.0), class_index(np.int64(2), num_classes=3)
        (1, 1, 2)
        >>> class_index("MALIGNANT")
        Traceback (most recent call last):
        ...
        ValueError: label 'MALIGNANT' (str) is not a class index; expected an int >= 0.
    """
    allowed = f"an int in [0, {num_classes})" if num_classes is not None else "an int >= 0"
    v = value
    if (isinstance(v, torch.Tensor) and v.numel() == 1) or (isinstance(v, np.ndarray) and v.size == 1):
        v = v.item()
    index: int | None = None
    if isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)):
        index = int(v)
    elif isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and float(v).is_integer():
        index = int(v)
    if index is None:
        raise ValueError(f"label {value!r} ({type(value).__name__}) is not a class index; expected {allowed}.")
    if index < 0 or (num_classes is not None and index >= num_classes):
        raise ValueError(f"label {value!r} is out of range; expected {allowed}.")
    return index


def _labels(items: Sequence[Mapping], label_key: str, num_classes: int | None) -> list[int]:
    if num_classes is not None and int(num_classes) < 1:
        raise ValueError(f"num_classes must be >= 1 (or None to infer it), got {num_classes}.")
    if len(items) == 0:
        raise ValueError("no items: class counts, weights and a sampler need at least one labelled item.")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or label_key not in item:
            keys = sorted(map(str, item)) if isinstance(item, Mapping) else type(item).__name__
            raise ValueError(f"item {i} has no label key {label_key!r} (keys: {keys}).")
        try:
            out.append(class_index(item[label_key], num_classes))
        except ValueError as e:
            raise ValueError(f"item {i}, key {label_key!r}: {e}") from None
    return out


def class_counts(items: Sequence[Mapping], label_key: str = "label", num_classes: int | None = None) -> list[int]:
    """Number of items per class, ``[n_0, ..., n_{K-1}]``; ``K = num_classes``, or the largest label + 1.

    Raises:
        ValueError: no items; an item without ``label_key`` or with a label that is not an index in range (the
            message names the item's position and its value).

    Example:
        >>> class_counts([{"label": 0}, {"label": 1}, {"label": 1}])
        [1, 2]
        >>> class_counts([{"label": 0}], num_classes=3)
        [1, 0, 0]
    """
    labels = _labels(items, label_key, num_classes)
    k = int(num_classes) if num_classes is not None else max(labels) + 1
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=k).tolist()


def class_weights(items: Sequence[Mapping], label_key: str = "label", num_classes: int | None = None) -> torch.Tensor:
    """Inverse-frequency class weights for ``torch.nn.CrossEntropyLoss(weight=...)``, float32 of shape ``(K,)``.

    ``w_c`` is proportional to ``1 / n_c`` and scaled so that the weights of the classes that have items average 1
    (``CrossEntropyLoss`` with ``reduction="mean"`` divides by the summed weights, so only the ratios matter
    there). A class with no items (``num_classes`` larger than the labels seen, or a tiny subset) gets weight 0 and
    a warning naming it: it never occurs as a target, so its weight is never used.

    Example:
        >>> class_weights([{"label": 0}] * 3 + [{"label": 1}]).tolist()
        [0.5, 1.5]
    """
    counts = np.asarray(class_counts(items, label_key, num_classes), dtype=np.float64)
    empty = np.flatnonzero(counts == 0).tolist()
    if empty:
        warnings.warn(
            f"classes {empty} have no items (counts {counts.astype(int).tolist()}); their loss weight is set to 0.",
            stacklevel=2,
        )
    inv = np.where(counts > 0, 1.0 / np.maximum(counts, 1.0), 0.0)
    inv *= (counts > 0).sum() / inv.sum()
    return torch.as_tensor(inv, dtype=torch.float32)


def class_balanced_sampler(
    items: Sequence[Mapping],
    label_key: str = "label",
    num_samples: int | None = None,
    replacement: bool = True,
    seed: int = 0,
    distributed: bool = False,
    num_replicas: int | None = None,
    rank: int | None = None,
) -> Sampler:
    """A sampler drawing each item with weight ``1 / count(its class)``: every class is drawn equally often in
    expectation, no image is duplicated on disk. Give it to the ``DataLoader`` with ``shuffle=False``.

    Args:
        items: the training items (the dataset's ``data``, same order).
        label_key: the item key holding the class index.
        num_samples: draws per epoch in total (all ranks together); default ``len(items)``.
        replacement: draw with replacement (needed to over-sample a rare class; without it, an epoch of
            ``len(items)`` draws is a plain permutation).
        seed: seed of the sampler's own ``torch.Generator`` (reproducible, independent of the global RNG).
        distributed: return MONAI's ``DistributedWeightedRandomSampler``: each rank draws
            ``ceil(num_samples / num_replicas)`` items, weighted, from its own shard of the items (the shards are
            reshuffled each epoch by ``set_epoch``, which MONAI's workflows call). Always with replacement.
        num_replicas, rank: for ``distributed=True``; None reads them from the initialised process group.

    Returns:
        ``torch.utils.data.WeightedRandomSampler`` or ``monai.data.DistributedWeightedRandomSampler``.

    Raises:
        ValueError: a bad label (see :func:`class_counts`), ``num_samples < 1``, more draws than items without
            replacement, or ``distributed=True`` with ``replacement=False``.

    Example:
        >>> items = [{"label": 0}] * 9 + [{"label": 1}]
        >>> drawn = [items[i]["label"] for i in class_balanced_sampler(items, num_samples=2000)]
        >>> 800 < drawn.count(1) < 1200  # about half, although 1 item in 10 is of class 1
        True
    """
    labels = _labels(items, label_key, None)
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    weights = (1.0 / counts[labels]).tolist()
    n = len(items) if num_samples is None else int(num_samples)
    if n < 1:
        raise ValueError(f"num_samples must be >= 1 (or None for len(items) = {len(items)}), got {num_samples}.")
    if not replacement and n > len(items):
        raise ValueError(
            f"cannot draw num_samples={n} of {len(items)} items without replacement; use replacement=True or "
            f"num_samples <= {len(items)}."
        )
    generator = torch.Generator().manual_seed(int(seed))
    if not distributed:
        return WeightedRandomSampler(weights, n, replacement=replacement, generator=generator)
    if not replacement:
        raise ValueError("distributed=True always draws with replacement (MONAI's DistributedWeightedRandomSampler).")
    from monai.data import DistributedWeightedRandomSampler

    sampler = DistributedWeightedRandomSampler(
        items, weights, generator=generator, num_replicas=num_replicas, rank=rank, seed=int(seed)
    )
    sampler.num_samples_per_rank = -(-n // sampler.num_replicas)
    return sampler


def _check_balance(class_balance: str) -> None:
    if class_balance not in CLASS_BALANCE:
        raise ValueError(f"Unsupported class_balance: {class_balance!r}, available options are {list(CLASS_BALANCE)}.")


def train_sampler(
    items: Sequence[Mapping], class_balance: str = "sampler", seed: int = 0, distributed: bool = False
) -> Sampler | None:
    """The training sampler of a classifier bundle (the DataLoader shuffles only when this is None).

    ``class_balance="sampler"``: every class drawn equally often (no image is duplicated on disk), see
    :func:`class_balanced_sampler` (label key ``"label"``); otherwise ``None`` (plain shuffling) or, with
    ``distributed``, a shuffling ``DistributedSampler``.

    Raises:
        ValueError: ``class_balance`` is not one of :data:`CLASS_BALANCE`.
    """
    _check_balance(class_balance)
    if class_balance == "sampler":
        return class_balanced_sampler(items, label_key="label", seed=seed, distributed=distributed)
    if distributed:
        from monai.data import DistributedSampler

        return DistributedSampler(items, shuffle=True, even_divisible=True)
    return None


def loss_class_weights(
    items: Sequence[Mapping], class_balance: str = "sampler", num_classes: int = 2, device=None
) -> torch.Tensor | None:
    """``CrossEntropyLoss(weight=...)``: :func:`class_weights` of the ``"label"`` key when
    ``class_balance="loss_weights"``, else None.

    Raises:
        ValueError: ``class_balance`` is not one of :data:`CLASS_BALANCE`.

    Example:
        >>> loss_class_weights([{"label": 0}] * 3 + [{"label": 1}], "loss_weights").tolist()
        [0.5, 1.5]
    """
    _check_balance(class_balance)
    if class_balance != "loss_weights":
        return None
    weights = class_weights(items, label_key="label", num_classes=num_classes)
    return weights.to(device) if device is not None else weights
