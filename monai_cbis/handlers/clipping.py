"""Gradient clipping between the backward pass and the optimizer step (AMP- and accumulation-aware)."""

from __future__ import annotations

import torch
from ignite.engine import Engine
from monai.engines.utils import IterationEvents

__all__ = ["GradientClipping"]


class GradientClipping:
    """Clip the global norm of the gradients after the backward pass, before the optimizer step.

    Runs on MONAI's ``IterationEvents.BACKWARD_COMPLETED``. With AMP it unscales the gradients first
    (``GradScaler.unscale_``), so that ``max_norm`` applies to the true gradients; with ``accumulation_steps > 1`` it
    clips only on the iterations that step the optimizer, as ``SupervisedTrainer`` decides them. ``max_norm=None``
    attaches nothing, so a config can always list the handler and switch it with one parameter.

    Args:
        max_norm: the largest allowed norm of all gradients together; ``None`` for no clipping.
        norm_type: the p of the p-norm.

    Example (bundle config)::

        {"_target_": "monai_cbis.handlers.GradientClipping", "max_norm": "@grad_clip"}
    """

    def __init__(self, max_norm: float | None = 1.0, norm_type: float = 2.0) -> None:
        try:
            value = None if max_norm is None else float(max_norm)
        except (TypeError, ValueError):
            value = float("nan")
        if value is not None and not value > 0:
            raise ValueError(f"max_norm must be a positive number or None (no clipping), got {max_norm!r}.")
        self.max_norm = value
        self.norm_type = float(norm_type)

    def attach(self, engine: Engine) -> None:
        if self.max_norm is not None:
            engine.add_event_handler(IterationEvents.BACKWARD_COMPLETED, self)

    @staticmethod
    def _steps_now(engine: Engine) -> bool:
        acc = int(getattr(engine, "accumulation_steps", 1) or 1)
        if acc == 1:
            return True
        epoch_length = engine.state.epoch_length
        local = engine.state.iteration - 1
        if epoch_length is not None:
            local %= epoch_length
            return (local + 1) % acc == 0 or local + 1 == epoch_length
        return (local + 1) % acc == 0

    def __call__(self, engine: Engine) -> None:
        if not self._steps_now(engine):
            return
        optimizer = engine.optimizer
        if getattr(engine, "amp", False) and getattr(engine, "scaler", None) is not None:
            engine.scaler.unscale_(optimizer)
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        torch.nn.utils.clip_grad_norm_(params, self.max_norm, norm_type=self.norm_type)
