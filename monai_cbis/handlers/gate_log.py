"""Say in the run's log what the breast gate removed (inference; evaluation writes it into ``metrics.json``).

Example (inference config)::

    {"_target_": "monai_cbis.handlers.RemovedFindingsLogger", "count_key": "breast_gate"}
"""

from __future__ import annotations

from ignite.engine import Engine, Events

from ..evaluation._engine import items
from ..transforms.breast_gate import total_removed

__all__ = ["RemovedFindingsLogger"]


class RemovedFindingsLogger:
    """Add up the gate records (``count_key`` of each output item, see
    :class:`~monai_cbis.transforms.GateByBreastd`) over a run and log the totals when it completes; the totals are
    also left in ``engine.state.metrics[count_key]``. A run in which nothing was gated logs nothing.

    Args:
        count_key: the key the gate writes its record under.
        what: how the log line names the gate.

    Example:
        >>> RemovedFindingsLogger().count_key
        'breast_gate'
    """

    def __init__(self, count_key: str = "breast_gate", what: str = "outside the breast") -> None:
        self.count_key, self.what = count_key, what
        self._counts: list = []

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.STARTED, lambda e: self._counts.clear())
        engine.add_event_handler(Events.ITERATION_COMPLETED, self._collect)
        engine.add_event_handler(Events.COMPLETED, self._report)

    def _collect(self, engine: Engine) -> None:
        self._counts.extend(out.get(self.count_key) for out in items(engine.state.output))

    def _report(self, engine: Engine) -> None:
        total = total_removed(self._counts)
        if total is None:
            return
        engine.state.metrics[self.count_key] = total
        found = ", ".join(f"{v} {k.removeprefix('removed_')}" for k, v in total.items() if k.startswith("removed_"))
        engine.logger.info(
            f"Removed {self.what}: {found} in {total['images_with_removals']} of {total['images']} images."
        )
