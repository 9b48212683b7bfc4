"""Tell the user what a run left out: log the skipped rows and files by reason and write their full list.

:class:`SkippedFilesHandler` reads the run's ledger (:class:`monai_cbis.data.skips.SkippedItems`), which the
bundle config fills while it builds its items: the index's skips (truncated or missing files, wrong-size masks),
an inference folder's files that are no 2-D image, and, with ``--skip_unreadable true``, the files whose pixels do
not decode (:func:`monai_cbis.transforms.readable_items`). Every item is built before the engine starts, so the
list is complete when the handler runs, on ``Events.STARTED``:

* one log line with the counts by reason and the report's path (a warning when anything was left out), then one
  warning per file the run itself left out (``input`` and ``load`` stages, the first ``max_logged``); the index's
  own skips are in the report and in ``python -m monai_cbis verify``;
* the report, written atomically: ``{"count", "by_reason", "by_stage", "skipped": [{"path", "row", "reason",
  "detail", "stage", ...}]}``.

Under ``torchrun`` every rank builds the same items; rank 0 alone logs and writes.

With ``require_data=True`` (the bundles' training) an engine whose data loader yields no batch at all is an error
when the handler is attached, before anything runs: MONAI's workflows would otherwise skip such a run with a
warning and exit 0, leaving no trained model and no word about why. The error says how many items were left, the
batch size (and that a last incomplete batch is dropped), what was skipped by reason, and where the full list is
(written first).

Example (in a bundle config)::

    {"_target_": "monai_cbis.evaluation.SkippedFilesHandler", "skipped": "@skipped",
     "output_file": "$@output_dir + '/skipped_training.json'"}
"""

from __future__ import annotations

import logging
import os

import torch.distributed as dist
from ignite.engine import Engine, Events

from ..data.skips import SkippedItems, describe_skip

__all__ = ["SkippedFilesHandler"]


class SkippedFilesHandler:
    """Log a run's skipped rows and files and write their list when the engine starts (see the module docstring).

    Args:
        skipped: the run's ledger.
        output_file: the JSON report to write.
        max_logged: how many files left out by the run itself are named in the log (the report has them all).
        name: logger name; None uses ``engine.logger``.
        require_data: raise at :meth:`attach` when the engine's data loader has no batch (see the module docstring).

    Raises:
        ValueError: (at :meth:`attach`, with ``require_data``) the engine's data loader yields no batch.
    """

    def __init__(
        self,
        skipped: SkippedItems,
        output_file: str | os.PathLike,
        max_logged: int = 20,
        name=None,
        require_data: bool = False,
    ):
        self.skipped = skipped
        self.output_file = str(output_file)
        self.max_logged = max_logged
        self.logger = logging.getLogger(name) if name else None
        self.require_data = bool(require_data)

    def attach(self, engine: Engine) -> None:
        if self.logger is None:
            self.logger = engine.logger
        if self.require_data:
            self._check_batches(engine)
        engine.add_event_handler(Events.STARTED, self)

    def _check_batches(self, engine: Engine) -> None:
        loader = getattr(engine, "data_loader", None)
        if loader is None or len(loader) > 0:
            return
        path = self._write()
        dataset = getattr(loader, "dataset", None)
        n = len(dataset) if dataset is not None else 0
        batch = getattr(loader, "batch_size", None)
        dropped = " and a last incomplete batch is dropped" if getattr(loader, "drop_last", False) else ""
        raise ValueError(
            f"Nothing to train on: {n} item(s) are left (batch size {batch}{dropped}), so the data loader yields no "
            f"batch; {self.skipped.summary()}. The full list (path, row, reason): {path}. Check --dataset_dir and "
            "--task (`python -m monai_cbis verify DATASET_DIR` names every damaged file), or lower --batch_size."
        )

    def _write(self) -> str:
        """Write the report (rank 0 only); returns its path."""
        if dist.is_available() and dist.is_initialized() and dist.get_rank() != 0:
            return self.output_file
        return self.skipped.write(self.output_file)

    def __call__(self, engine: Engine) -> None:
        if dist.is_available() and dist.is_initialized() and dist.get_rank() != 0:
            return
        path = self.skipped.write(self.output_file)
        entries = self.skipped.entries
        log = self.logger.warning if entries else self.logger.info
        log(f"{self.skipped.summary()}; the full list (path, row, reason): {path}")
        own = [e for e in entries if e["stage"] != "index"]
        for entry in own[: self.max_logged]:
            self.logger.warning(f"skipped {describe_skip(entry)}")
        if len(own) > self.max_logged:
            self.logger.warning(f"... {len(own) - self.max_logged} more in {path}")
