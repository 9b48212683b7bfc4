"""Ignite handlers that let bundle configs resume, stop early, schedule the LR and clip gradients.

MONAI's ``CheckpointLoader`` / ``CheckpointSaver`` (with ``"trainer"`` in their dicts) and
``EarlyStopHandler(trainer=...)`` need the trainer, but they sit in lists that the trainer itself references, so a
config cannot wire them without circular references or ``$`` expressions that index into handler lists. These
handlers take the trainer from ``attach(engine)`` instead and are declared in ``train#handlers`` like any other.

Example (bundle config)::

    {"_target_": "monai_cbis.handlers.ResumableCheckpoint", "ckpt_dir": "@ckpt_dir", "resume": "@resume",
     "save_dict": {"model": "@network", "optimizer": "@optimizer"}, "map_location": "@device"},
    {"_target_": "monai_cbis.handlers.EarlyStopOnValidation", "validator": "@validate#evaluator",
     "metric_name": "val_mean_dice", "patience": 10}
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Mapping, Sequence

import torch
from ignite.engine import Engine, Events
from monai.engines.utils import IterationEvents
from monai.handlers import CheckpointLoader, CheckpointSaver, LrScheduleHandler
from torch.optim.lr_scheduler import ReduceLROnPlateau

from .evaluation._engine import ReportHandlerBase, to_numpy
from .evaluation.reports import write_csv

__all__ = [
    "ClassificationCSVWriter",
    "EarlyStopOnValidation",
    "GradientClipping",
    "ResumableCheckpoint",
    "class_scores_and_indices",
    "latest_checkpoint",
    "lr_schedule_handler",
    "split_key_metric",
    "validator_metric",
]


def validator_metric(validator: Engine, metric_name: str) -> Callable[[Engine], float]:
    """A ``step_transform`` / score function reading ``metric_name`` from the validator's last run.

    Raises (when called):
        KeyError: the validator has not produced that metric; the message lists the ones it has.
    """

    def read(_engine: Engine) -> float:
        metrics = validator.state.metrics
        if metric_name not in metrics:
            raise KeyError(f"validator has no metric {metric_name!r}; it has {sorted(metrics)}.")
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


def lr_schedule_handler(lr_scheduler, validator: Engine, metric_name: str, print_lr: bool = True) -> LrScheduleHandler:
    """MONAI's ``LrScheduleHandler`` set up for the kind of ``lr_scheduler`` (:func:`monai_cbis.optim.lr_scheduler`).

    ``ReduceLROnPlateau`` steps once per epoch with the validator's ``metric_name``; any other scheduler steps after
    every iteration, without arguments.

    Example (bundle config)::

        {"_target_": "monai_cbis.handlers.lr_schedule_handler", "lr_scheduler": "@lr_scheduler",
         "validator": "@validate#evaluator", "metric_name": "val_auc"}
    """
    if isinstance(lr_scheduler, ReduceLROnPlateau):
        step = validator_metric(validator, metric_name)
        return LrScheduleHandler(lr_scheduler, print_lr=print_lr, epoch_level=True, step_transform=step)
    return LrScheduleHandler(lr_scheduler, print_lr=False, epoch_level=False, step_transform=lambda _engine: ())


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


_EPOCH_RE = re.compile(r"epoch=(\d+)")


def latest_checkpoint(ckpt_dir: str, resume: bool = True) -> str:
    """The newest ``*checkpoint_epoch=N.pt`` in ``ckpt_dir`` (what ``--resume true`` continues from), by epoch
    number, not by name (``epoch=10`` is newer than ``epoch=9``). It lives beside :class:`ResumableCheckpoint`, which
    writes those files and loads this one.

    Returns ``""`` when ``resume`` is false.

    Raises:
        FileNotFoundError: ``resume`` is true and there is nothing to resume (the message names the folder).
    """
    if not resume:
        return ""
    found = glob.glob(os.path.join(ckpt_dir, "*checkpoint_epoch=*.pt"))
    if not found:
        raise FileNotFoundError(
            f"--resume true, but there is no checkpoint_epoch=N.pt in {ckpt_dir} to resume from. Train without "
            "--resume first, or point --ckpt_dir at the interrupted run's checkpoints."
        )
    return max(found, key=lambda p: int(_EPOCH_RE.search(os.path.basename(p)).group(1)))


class ResumableCheckpoint:
    """Save the model, optimizer, scheduler and trainer every epoch, and resume from the newest save on request.

    The trainer is taken from :meth:`attach`, so the config needs no reference back to it. Loading happens at
    ``STARTED`` (before the other handlers' ``STARTED`` when this handler is listed first); the saver is registered
    at the first ``STARTED``, so it runs after every other end-of-epoch handler (validation, LR step, early stop)
    and the saved state is the epoch's final state. Files: ``checkpoint_epoch=N.pt`` (the newest ``n_saved``) and
    ``final_filename`` at the end. Under DDP, ignite saves on rank 0 only.

    Args:
        ckpt_dir: where the checkpoints go.
        save_dict: objects besides the trainer (``{"model": ..., "optimizer": ..., "lr_scheduler": ...}``).
        resume: load the newest ``checkpoint_epoch=N.pt`` of ``ckpt_dir`` first (the bundle's ``--resume true``).
        map_location: passed to ``torch.load``.
        n_saved: how many epoch checkpoints to keep.
        final_filename: the checkpoint written when training ends.

    Raises:
        FileNotFoundError: (at ``attach``) ``resume`` is true but ``ckpt_dir`` holds no checkpoint.
    """

    def __init__(
        self,
        ckpt_dir: str,
        save_dict: dict,
        resume: bool = False,
        map_location=None,
        n_saved: int = 1,
        final_filename: str = "model_final.pt",
    ) -> None:
        self.ckpt_dir, self.save_dict, self.resume = ckpt_dir, dict(save_dict), bool(resume)
        self.map_location, self.n_saved, self.final_filename = map_location, n_saved, final_filename
        self._saver_attached = False

    def attach(self, engine: Engine) -> None:
        if self.resume:
            path = latest_checkpoint(self.ckpt_dir, resume=True)
            CheckpointLoader(
                load_path=path, load_dict={**self.save_dict, "trainer": engine}, map_location=self.map_location
            ).attach(engine)
        engine.add_event_handler(Events.STARTED, self._attach_saver)

    def _attach_saver(self, engine: Engine) -> None:
        if self._saver_attached:
            return
        self._saver_attached = True
        CheckpointSaver(
            save_dir=self.ckpt_dir,
            save_dict={**self.save_dict, "trainer": engine},
            epoch_level=True,
            save_interval=1,
            n_saved=self.n_saved,
            save_final=True,
            final_filename=self.final_filename,
        ).attach(engine)


class EarlyStopOnValidation:
    """Stop training when the validator's ``metric_name`` has not improved for ``patience`` validations.

    Attach to the trainer after the ``ValidationHandler`` (handlers run in the order they are attached).

    Args:
        validator: the evaluator that the ``ValidationHandler`` runs.
        metric_name: e.g. ``"val_mean_dice"``.
        patience: validations without improvement before stopping.
        min_delta: an improvement smaller than this does not count.
        greater_is_better: ``False`` for a loss.
    """

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

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.EPOCH_COMPLETED, self)

    def __call__(self, engine: Engine) -> None:
        val_epoch = self.validator.state.epoch if self.validator.state is not None else 0
        if self.metric_name not in (self.validator.state.metrics or {}) or val_epoch == self._last_seen_epoch:
            return  # no validation ran this epoch (val_interval > 1)
        self._last_seen_epoch = val_epoch
        score = self.sign * float(self.validator.state.metrics[self.metric_name])
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


class ClassificationCSVWriter(ReportHandlerBase):
    """Write one CSV row per input image with the class probabilities and the predicted class (inference).

    Reads ``engine.state.output`` (per-item dicts after post-processing: ``pred`` must hold probabilities, e.g. after
    ``Activationsd(softmax=True)``) at every iteration and writes ``output_file`` atomically when the run completes,
    rows in the order seen. Columns: ``image``, ``prob_<class>`` for each class, ``predicted_class``,
    ``predicted_index``. File names come from the evaluation handlers' shared lifecycle (``image_key``'s metadata,
    else the batch's, else ``item_000000``...).

    Args:
        output_file: the CSV to write (its folder is created).
        class_names: one name per output channel, e.g. ``["benign", "malignant"]``.
        pred_key, image_key: keys of the output items (the file name is read from ``image_key``'s metadata).

    Example:
        >>> ClassificationCSVWriter("eval/inference/predictions.csv", ["benign", "malignant"]).attach(evaluator)
        ... # doctest: +SKIP
    """

    def __init__(
        self, output_file: str, class_names: Sequence[str], pred_key: str = "pred", image_key: str = "image"
    ) -> None:
        if not class_names:
            raise ValueError("class_names must name at least one class.")
        self.output_file, self.class_names, self.pred_key = output_file, list(class_names), pred_key
        output_dir = os.path.dirname(os.path.abspath(output_file))
        super().__init__(output_dir, (image_key,), save_rank=0, name=None, gather_across_ranks=False)

    def collect(self, item: Mapping, filename: str) -> None:
        if self.pred_key not in item:
            raise KeyError(
                f"ClassificationCSVWriter needs {self.pred_key!r} in the engine output; it has {sorted(item)}."
            )
        prob = to_numpy(item[self.pred_key]).astype(float).reshape(-1)
        if prob.size != len(self.class_names):
            raise ValueError(
                f"pred of {filename} has {prob.size} values, but class_names has {len(self.class_names)}: "
                f"{self.class_names}."
            )
        index = int(prob.argmax())
        row = {"image": filename}
        row.update({f"prob_{c}": round(float(p), 6) for c, p in zip(self.class_names, prob, strict=True)})
        row.update({"predicted_class": self.class_names[index], "predicted_index": index})
        self.rows.append(row)

    def completed(self, engine: Engine) -> None:
        columns = ["image", *[f"prob_{c}" for c in self.class_names], "predicted_class", "predicted_index"]
        os.makedirs(self.output_dir, exist_ok=True)
        write_csv(self.rows, columns, self.output_file)
        self.logger.info(f"Wrote {len(self.rows)} predictions to {self.output_file}")


def class_scores_and_indices(pred_key: str = "pred", label_key: str = "label") -> Callable:
    """An ``output_transform`` for ignite's multi-class metrics (``ignite.metrics.Accuracy``) on MONAI engines:
    stacks the per-item ``pred`` scores to ``(B, C)`` and turns ``label`` (index or one-hot) into indices ``(B,)``.

    Example (bundle config)::

        "val_accuracy": {"_target_": "ignite.metrics.Accuracy",
                         "output_transform": "$monai_cbis.handlers.class_scores_and_indices()"}
    """
    import torch

    def transform(output):
        rows = [output] if isinstance(output, dict) else list(output)
        preds = torch.stack([torch.as_tensor(r[pred_key]).reshape(-1).float() for r in rows])
        labels = [torch.as_tensor(r[label_key]).reshape(-1) for r in rows]
        y = torch.stack([lab.argmax() if lab.numel() > 1 else lab[0] for lab in labels]).long()
        return preds, y

    return transform
