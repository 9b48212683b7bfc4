"""Reading the validator's metrics from the trainer's handlers, and telling "no validation data" from a typo.

MONAI's evaluator skips its run when its data loader is empty (a MONAI Label user with one or two labels and
``val_split`` 0), so it produces no metric at all. The handlers that read a metric (LR plateau, early stopping,
best-checkpoint selection) then skip, saying so once; a metric missing while the validator did have data (a typo in
the name) stays an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ignite.engine import Engine

__all__ = ["NO_VALIDATION_DATA", "NoValidationSkip", "has_no_validation_data", "split_key_metric", "validator_metric"]

#: The one log line of a handler that skips because the validator had nothing to validate.
NO_VALIDATION_DATA = "the validation list is empty, so there is no {metric} to read: {what} is skipped for this run."


def has_no_validation_data(validator: Engine) -> bool:
    """Whether ``validator`` has an empty data loader (MONAI's evaluator then skips its run and has no metrics).

    Example:
        >>> from monai.engines import SupervisedEvaluator
        >>> import torch
        >>> empty = SupervisedEvaluator(torch.device("cpu"), torch.utils.data.DataLoader([]), torch.nn.Identity())
        >>> has_no_validation_data(empty)
        True
    """
    state = getattr(validator, "state", None)
    return state is not None and getattr(state, "epoch_length", None) == 0


class NoValidationSkip:
    """The rule of every validation-dependent handler: skip while the validator has no data, and say so once.

    Args:
        validator: the engine whose metric the handler reads.
        metric_name: that metric, named in the log line.
        what: what is skipped, named in the log line (``"early stopping"``).
    """

    def __init__(self, validator: Engine, metric_name: str, what: str) -> None:
        self.validator, self.metric_name, self.what, self._told = validator, metric_name, what, False

    def __call__(self, engine: Engine) -> bool:
        """True when the handler must skip this event; the first time, one line in ``engine``'s log says why."""
        if not has_no_validation_data(self.validator):
            return False
        if not self._told:
            self._told = True
            engine.logger.info(NO_VALIDATION_DATA.format(metric=self.metric_name, what=self.what))
        return True


def validator_metric(validator: Engine, metric_name: str) -> Callable[[Engine], float]:
    """A ``step_transform`` / score function reading ``metric_name`` from the validator's last run.

    Raises (when called):
        KeyError: the validator has not produced that metric; the message lists the ones it has.
    """

    def read(_engine: Engine) -> float:
        metrics = validator.state.metrics
        if metric_name not in metrics:
            raise KeyError(
                f"validator has no metric {metric_name!r}; it has {sorted(metrics)}. Check key_metric / metric_name."
            )
        return float(metrics[metric_name])

    return read


def split_key_metric(metrics: Mapping[str, object], key_metric: str) -> tuple[dict, dict]:
    """Split an evaluator's metric handlers into ``key_val_metric`` and ``additional_metrics`` by name.

    The key metric picks ``models/model.pt`` and drives LR reduction and early stopping, so a bundle exposes its name
    as a parameter (``--key_metric val_accuracy``) while the handlers stay declared once.

    Raises:
        ValueError: ``key_metric`` is not one of the metrics; the message lists them.

    Example:
        >>> split_key_metric({"val_auc": "auc", "val_accuracy": "acc"}, "val_accuracy")
        ({'val_accuracy': 'acc'}, {'val_auc': 'auc'})
    """
    if key_metric not in metrics:
        raise ValueError(f"Unsupported key_metric: {key_metric!r}, available options are {list(metrics)}.")
    return {key_metric: metrics[key_metric]}, {k: v for k, v in metrics.items() if k != key_metric}
