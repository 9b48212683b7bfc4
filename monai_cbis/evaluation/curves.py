"""Per-epoch training history (loss, learning rate, validation metrics) as CSV, JSON and a figure, resumable.

:class:`TrainingCurvesHandler` attaches to the trainer. It averages the iteration losses of each epoch, reads the
learning rate of the trainer's optimizer, and takes metrics from the validator's ``state.metrics`` when the validator
(the evaluator, e.g. run by a ``ValidationHandler``) completes: the row is the trainer's current epoch, so the order
in which the handlers were attached does not matter. The trainer's own ``state.metrics`` are read at the end of each
epoch. After every update it rewrites, atomically, ``history.json``, ``history.csv`` and ``training_curves.png``.

Resuming: the history already in ``output_dir`` is loaded when the handler is attached, and rows are keyed by epoch.
At the first epoch of a run, rows from that epoch on are dropped (left over from a longer earlier run, or a fresh run
in the same folder), earlier rows are kept, and new epochs are appended.

Distributed runs: attach on every rank (``requires_all_ranks`` is True: do not filter it out of the handler lists of
ranks other than 0; it writes on rank 0 by itself); the epoch loss is averaged over ranks with
``ignite.distributed.all_reduce``, a collective. With ``reduce_loss_across_ranks=False`` it may be attached on one rank
only, and records that rank's loss. Validation metrics of MONAI's metric handlers are already averaged over ranks.

Example:
    >>> TrainingCurvesHandler("./runs/curves", validator=evaluator, metric_names=["val_mean_dice"]).attach(trainer)
    ... # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Sequence

import ignite.distributed as idist
from ignite.engine import Engine, Events

from ._engine import is_writer, scalar
from .figures import save_png, training_curves_figure
from .reports import write_csv, write_json

__all__ = ["TrainingCurvesHandler"]

_FIXED = ("epoch", "train_loss", "lr")


class TrainingCurvesHandler:
    """Record and plot the training loss and validation metrics of every epoch.

    Files in ``output_dir``:

    * ``history.json``: ``{"columns": [...], "history": [{"epoch": 1, "train_loss": ..., "lr": ..., <metrics>}]}``,
      one row per epoch in order; a value not measured that epoch is ``null`` (e.g. validation every other epoch;
      epoch 0 holds a validation run at start, ``exec_at_start``).
    * ``history.csv``: the same rows, columns ``epoch, train_loss, lr, <metric names...>``, empty cells for nulls.
    * ``training_curves.png``: loss (left) and metrics (right) over epochs, 1000 x 400 px.

    Args:
        output_dir: folder of the files (created).
        validator: the validation evaluator (``"@validate#evaluator"`` in a bundle, as for ``ValidationHandler``);
            its metrics are recorded when it completes. None: only the trainer's own metrics.
        metric_names: names in ``state.metrics`` to record, or ``"*"`` for all of them (validator and trainer; a
            validator metric wins over a trainer metric of the same name).
        loss_key: the loss entry of the trainer's output (MONAI's ``"loss"``).
        record_lr: record the first parameter group's learning rate of ``trainer.optimizer`` (when there is one).
        reduce_loss_across_ranks: average the epoch loss over DDP ranks (requires the handler on every rank).
        save_rank: the rank that writes under DDP.
        name: logger name; None uses the trainer's logger.

    Example:
        >>> curves = TrainingCurvesHandler("./curves", metric_names=["val_mean_dice", "val_iou"])
        >>> curves.columns
        ['epoch', 'train_loss', 'lr', 'val_mean_dice', 'val_iou']
    """

    def __init__(
        self,
        output_dir: str,
        validator: Engine | None = None,
        metric_names: str | Sequence[str] = "*",
        loss_key: str = "loss",
        record_lr: bool = True,
        reduce_loss_across_ranks: bool = True,
        save_rank: int = 0,
        name: str | None = None,
    ) -> None:
        if isinstance(metric_names, str) and metric_names != "*":
            metric_names = [metric_names]
        self.output_dir = str(output_dir)
        self.validator = validator
        self.metric_names = "*" if metric_names == "*" else list(metric_names)
        self.loss_key = loss_key
        self.record_lr = record_lr
        self.reduce_loss_across_ranks = reduce_loss_across_ranks
        self.save_rank = save_rank
        self._name = name
        self.logger = logging.getLogger(name) if name else None
        self.rows: dict[int, dict] = {}
        self.columns: list[str] = list(_FIXED) + ([] if self.metric_names == "*" else self.metric_names)
        self._losses: list[float] = []
        self._trimmed = False
        self._trainer: Engine | None = None

    @property
    def requires_all_ranks(self) -> bool:
        """True when the handler must be attached on every DDP rank (it all-reduces the loss)."""
        return self.reduce_loss_across_ranks

    @property
    def json_path(self) -> str:
        return os.path.join(self.output_dir, "history.json")

    def attach(self, engine: Engine) -> None:
        """Attach to the trainer (and to ``validator``'s COMPLETED event); loads an existing ``history.json``."""
        self._trainer = engine
        if self._name is None:
            self.logger = engine.logger
        self.load()
        engine.add_event_handler(Events.STARTED, self._started)
        engine.add_event_handler(Events.EPOCH_STARTED, self._epoch_started)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self._iteration_completed)
        engine.add_event_handler(Events.EPOCH_COMPLETED, self._epoch_completed)
        if self.validator is not None:
            self.validator.add_event_handler(Events.COMPLETED, self._validator_completed)

    def load(self) -> None:
        """Read ``history.json`` from ``output_dir`` if it exists (rows keyed by epoch; columns merged)."""
        if not os.path.isfile(self.json_path):
            return
        with open(self.json_path, encoding="utf-8") as f:
            data = json.load(f)
        for row in data.get("history", []):
            self.rows[int(row["epoch"])] = dict(row)
        for c in data.get("columns", []):
            if c not in self.columns and (self.metric_names == "*" or c in _FIXED):
                self.columns.append(c)

    def _started(self, engine: Engine) -> None:
        self._trimmed = False

    def _epoch_started(self, engine: Engine) -> None:
        self._losses = []
        if not self._trimmed:  # first epoch of this run: rows from here on are stale
            self.rows = {e: r for e, r in self.rows.items() if e < engine.state.epoch}
            self._trimmed = True

    def _iteration_completed(self, engine: Engine) -> None:
        out = engine.state.output
        if isinstance(out, (list, tuple)):  # decollated: the loss is replicated into every item
            if not out:
                return
            out = out[0]
        if isinstance(out, dict):
            if self.loss_key not in out:
                raise KeyError(f"TrainingCurvesHandler: no {self.loss_key!r} in the trainer output keys {sorted(out)}.")
            out = out[self.loss_key]
        if out is not None:
            self._losses.append(scalar(out))

    def _row(self, epoch: int) -> dict:
        return self.rows.setdefault(epoch, {"epoch": epoch})

    def _set_metrics(self, row: dict, metrics: dict) -> None:
        names = list(metrics) if self.metric_names == "*" else self.metric_names
        for k in names:
            if k not in metrics:
                continue
            try:
                row[k] = scalar(metrics[k])
            except (TypeError, ValueError):  # non-scalar metric (e.g. per-class arrays): not a curve
                continue
            if k not in self.columns:
                self.columns.append(k)

    def _epoch_completed(self, engine: Engine) -> None:
        total, count = sum(self._losses), len(self._losses)
        if self.reduce_loss_across_ranks and idist.get_world_size() > 1:
            total, count = float(idist.all_reduce(float(total))), int(idist.all_reduce(float(count)))
        row = self._row(engine.state.epoch)
        row["train_loss"] = total / count if count else None
        optimizer = getattr(engine, "optimizer", None)
        if self.record_lr and optimizer is not None and getattr(optimizer, "param_groups", None):
            row["lr"] = float(optimizer.param_groups[0]["lr"])
        self._set_metrics(row, dict(engine.state.metrics or {}))
        self.write()

    def _validator_completed(self, validator: Engine) -> None:
        epoch = self._trainer.state.epoch if self._trainer is not None else validator.state.epoch
        self._set_metrics(self._row(epoch), dict(validator.state.metrics or {}))
        self.write()

    def history(self) -> list[dict]:
        """The rows in epoch order, every column present (None where not measured)."""
        out = []
        for e in sorted(self.rows):
            row = {c: self.rows[e].get(c) for c in self.columns}
            out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()})
        return out

    def write(self) -> None:
        """Write ``history.json``, ``history.csv`` and ``training_curves.png`` (on the writing rank only)."""
        if not is_writer(self.save_rank):
            return
        rows = self.history()
        write_csv(rows, self.columns, os.path.join(self.output_dir, "history.csv"))
        metrics = [c for c in self.columns if c not in _FIXED]
        save_png(
            training_curves_figure(rows, "train_loss", metrics), os.path.join(self.output_dir, "training_curves.png")
        )
        write_json({"columns": self.columns, "history": rows}, self.json_path)
