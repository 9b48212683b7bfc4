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
    """

    def __init__(self, skipped: SkippedItems, output_file: str | os.PathLike, max_logged: int = 20, name=None):
        self.skipped = skipped
        self.output_file = str(output_file)
        self.max_logged = max_logged
        self.logger = logging.getLogger(name) if name else None

    def attach(self, engine: Engine) -> None:
        if self.logger is None:
            self.logger = engine.logger
        engine.add_event_handler(Events.STARTED, self)

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
