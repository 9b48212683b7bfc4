"""The LR scheduler's handler: per iteration for a schedule, per epoch on the validator's metric for a plateau."""

from __future__ import annotations

from ignite.engine import Engine
from monai.handlers import LrScheduleHandler
from torch.optim.lr_scheduler import ReduceLROnPlateau

from .validation import NoValidationSkip, validator_metric

__all__ = ["lr_schedule_handler"]


class _PlateauHandler(LrScheduleHandler):
    """``LrScheduleHandler`` stepping ``ReduceLROnPlateau`` with the validator's metric, skipped (one log line) when
    the validator has no data."""

    def __init__(self, lr_scheduler, validator: Engine, metric_name: str, print_lr: bool) -> None:
        step = validator_metric(validator, metric_name)
        super().__init__(lr_scheduler, print_lr=print_lr, epoch_level=True, step_transform=step)
        self._no_data = NoValidationSkip(validator, metric_name, "ReduceLROnPlateau")

    def __call__(self, engine: Engine) -> None:
        if self._no_data(engine):
            return
        super().__call__(engine)


def lr_schedule_handler(lr_scheduler, validator: Engine, metric_name: str, print_lr: bool = True) -> LrScheduleHandler:
    """MONAI's ``LrScheduleHandler`` set up for the kind of ``lr_scheduler`` (:func:`monai_cbis.optim.lr_scheduler`).

    ``ReduceLROnPlateau`` steps once per epoch with the validator's ``metric_name`` (and not at all, with one log
    line, when the validation list is empty); any other scheduler steps after every iteration, without arguments.

    Example (bundle config)::

        {"_target_": "monai_cbis.handlers.lr_schedule_handler", "lr_scheduler": "@lr_scheduler",
         "validator": "@validate#evaluator", "metric_name": "val_auc"}
    """
    if isinstance(lr_scheduler, ReduceLROnPlateau):
        return _PlateauHandler(lr_scheduler, validator, metric_name, print_lr)
    return LrScheduleHandler(lr_scheduler, print_lr=False, epoch_level=False, step_transform=lambda _engine: ())
