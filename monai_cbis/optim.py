"""Learning-rate schedules for the bundles, chosen by name so that a config switches them with one override.

``"plateau"`` (the default; both papers) halves the learning rate when the validation key metric stops improving;
``"cosine"`` warms up linearly for ``warmup_epochs`` and then decays to zero along a cosine over the remaining
epochs, stepped every iteration (MONAI's :class:`~monai.optimizers.WarmupCosineSchedule`), the usual recipe for
training a vision transformer from scratch. :func:`monai_cbis.handlers.lr_schedule_handler` steps either kind at the
right time.

Example:
    >>> net = torch.nn.Linear(2, 1)
    >>> opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    >>> type(lr_scheduler(opt, "cosine", epochs=10, steps_per_epoch=20)).__name__
    'WarmupCosineSchedule'
"""

from __future__ import annotations

import warnings

import torch
from monai.optimizers import WarmupCosineSchedule
from torch.optim.lr_scheduler import ReduceLROnPlateau

__all__ = ["LR_SCHEDULES", "lr_scheduler"]

#: the names :func:`lr_scheduler` accepts.
LR_SCHEDULES = ("plateau", "cosine")


def lr_scheduler(
    optimizer: torch.optim.Optimizer,
    schedule: str = "plateau",
    epochs: int = 1,
    steps_per_epoch: int = 1,
    warmup_epochs: int = 1,
    factor: float = 0.5,
    patience: int = 3,
    mode: str = "max",
):
    """Build the learning-rate scheduler named by ``schedule``.

    Args:
        optimizer: the optimizer whose learning rate is scheduled.
        schedule: ``"plateau"`` (``ReduceLROnPlateau``: multiply by ``factor`` after ``patience`` validations without
            improvement of the key metric) or ``"cosine"`` (linear warm-up over ``warmup_epochs``, then cosine decay
            to 0 at the end of ``epochs``, stepped per iteration).
        epochs, steps_per_epoch: the training length (``"cosine"`` only); ``steps_per_epoch`` is the train
            loader's length.
        warmup_epochs: epochs of linear warm-up (``"cosine"`` only); 0 for none. One that leaves no epoch to decay
            is shortened to ``epochs - 1``, with a warning.
        factor, patience, mode: ``ReduceLROnPlateau`` settings (``"plateau"`` only); ``mode="max"`` for a metric
            such as Dice or AUC.

    Raises:
        ValueError: an unknown ``schedule`` (the message lists :data:`LR_SCHEDULES`) or a bad length.
    """
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"Unsupported lr_schedule: {schedule!r}, available options are {list(LR_SCHEDULES)}.")
    if schedule == "plateau":
        return ReduceLROnPlateau(optimizer, mode=mode, factor=factor, patience=patience)
    if epochs < 1 or steps_per_epoch < 1 or warmup_epochs < 0:
        raise ValueError(
            "the cosine schedule needs epochs >= 1, steps_per_epoch >= 1 and warmup_epochs >= 0, got "
            f"epochs={epochs}, steps_per_epoch={steps_per_epoch}, warmup_epochs={warmup_epochs}."
        )
    if warmup_epochs >= epochs:  # e.g. a quick --epochs 1 run of a bundle whose default warm-up is one epoch
        warnings.warn(
            f"warmup_epochs={warmup_epochs} leaves no epoch to decay in {epochs}: the warm-up is shortened to "
            f"{epochs - 1} epoch(s).",
            stacklevel=2,
        )
        warmup_epochs = epochs - 1
    return WarmupCosineSchedule(
        optimizer, warmup_steps=warmup_epochs * steps_per_epoch, t_total=epochs * steps_per_epoch
    )
