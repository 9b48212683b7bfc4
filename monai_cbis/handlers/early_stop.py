"""Early stopping on the validator's metric, with a state that the epoch checkpoint saves and resume restores."""

from __future__ import annotations

from ignite.engine import Engine, Events

from .validation import NoValidationSkip

__all__ = ["EarlyStopOnValidation"]


class EarlyStopOnValidation:
    """Stop training when the validator's ``metric_name`` has not improved for ``patience`` validations.

    Attach to the trainer after the ``ValidationHandler`` (handlers run in the order they are attached). An epoch
    without validation (``val_interval > 1``) does not count; an empty validation list skips the handler with one log
    line; a validator that ran but lacks ``metric_name`` is an error (a typo). The best score and the count of
    validations without improvement are :meth:`state_dict`, which :class:`ResumableCheckpoint` saves every epoch (under
    ``resume_key``), so a resumed run goes on counting where the interrupted one stopped.

    Args:
        validator: the evaluator that the ``ValidationHandler`` runs.
        metric_name: e.g. ``"val_mean_dice"``.
        patience: validations without improvement before stopping.
        min_delta: an improvement smaller than this does not count.
        greater_is_better: ``False`` for a loss.

    Raises:
        KeyError: (during training) the validator ran but has no ``metric_name``; the message lists what it has.

    Example:
        >>> stop = EarlyStopOnValidation(validator=Engine(lambda e, b: None), metric_name="val_auc", patience=2)
        >>> stop.load_state_dict({"best": 0.8, "bad_validations": 1, "last_seen_epoch": 4})
        >>> stop.state_dict()
        {'best': 0.8, 'bad_validations': 1, 'last_seen_epoch': 4}
    """

    #: the entry of :class:`~monai_cbis.handlers.ResumableCheckpoint`'s checkpoint that holds :meth:`state_dict`
    resume_key = "early_stop"

    def __init__(
        self,
        validator: Engine,
        metric_name: str,
        patience: int = 10,
        min_delta: float = 0.0,
        greater_is_better: bool = True,
    ) -> None:
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}.")
        self.validator, self.metric_name, self.patience = validator, metric_name, patience
        self.min_delta, self.sign = min_delta, 1.0 if greater_is_better else -1.0
        self.best: float | None = None
        self.bad_validations = 0
        self._last_seen_epoch = -1
        self._no_data = NoValidationSkip(validator, metric_name, "early stopping")

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.EPOCH_COMPLETED, self)

    def state_dict(self) -> dict:
        """The best (signed) score so far, the validations since it, and the last validation epoch counted."""
        return {"best": self.best, "bad_validations": self.bad_validations, "last_seen_epoch": self._last_seen_epoch}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (on ``--resume true``)."""
        self.best = None if state["best"] is None else float(state["best"])
        self.bad_validations = int(state["bad_validations"])
        self._last_seen_epoch = int(state["last_seen_epoch"])

    def __call__(self, engine: Engine) -> None:
        if self._no_data(engine):
            return
        state = self.validator.state
        val_epoch = state.epoch if state is not None else 0
        if state is None or not state.metrics or val_epoch == self._last_seen_epoch:
            return  # no validation ran this epoch (val_interval > 1)
        if self.metric_name not in state.metrics:
            raise KeyError(
                f"EarlyStopOnValidation: the validator has no metric {self.metric_name!r}; it has "
                f"{sorted(state.metrics)}. Check key_metric / metric_name."
            )
        self._last_seen_epoch = val_epoch
        score = self.sign * float(state.metrics[self.metric_name])
        if self.best is None or score > self.best + self.min_delta:
            self.best, self.bad_validations = score, 0
            return
        self.bad_validations += 1
        if self.bad_validations >= self.patience:
            engine.logger.info(
                f"Early stopping: {self.metric_name} has not improved for {self.patience} validations "
                f"(best {self.sign * self.best:.4f})."
            )
            engine.terminate()
