"""Epoch checkpoints that a killed run resumes from as if it had never stopped.

:class:`ResumableCheckpoint` saves, every epoch, everything that decides what the next epoch does: the model,
optimizer, LR scheduler and trainer, every trainer handler that declares a ``resume_key`` (the early-stop counter of
:class:`~monai_cbis.handlers.EarlyStopOnValidation`), the validator's best key metric and its epoch, and the record
of the validator's best-model ``CheckpointSaver`` (so a resumed epoch that validates worse does not overwrite
``models/model.pt``). ``--resume true`` loads the newest ``checkpoint_epoch=N.pt`` back into all of them.

A run that selects no best model (its validation list is empty, as MONAI Label's ``val_split`` 0 makes it, or it
never validates) still leaves ``models/model.pt``: the final weights, with a log line saying so, because that is
the file evaluation, inference, ``ckpt_export`` and MONAI Label load.

The handlers are found on the engines at ``STARTED`` rather than named in the config: bundle handler lists must
stay lists of component dicts (MONAI's ``check_properties`` and MONAI Label's train task read them that way), and
MONAI Label prepends a handler, so an index reference into the list would point at the wrong one.
"""

from __future__ import annotations

import glob
import os
import re

import torch
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint
from monai.handlers import CheckpointSaver

from ..atomic import atomic_write, is_temporary
from .validation import has_no_validation_data

__all__ = ["ResumableCheckpoint", "latest_checkpoint"]

_EPOCH_RE = re.compile(r"checkpoint_epoch=(\d+)\.pt$")
_PATTERN = "checkpoint_epoch={}.pt"
#: Entries every checkpoint must hold; the others are restored when present (a checkpoint from an older version).
_REQUIRED = ("model", "trainer")


def _epoch_files(ckpt_dir: str) -> dict[int, str]:
    found = {}
    for path in glob.glob(os.path.join(glob.escape(ckpt_dir), "*checkpoint_epoch=*.pt")):
        match = _EPOCH_RE.search(os.path.basename(path))
        if match:
            found[int(match.group(1))] = path
    return found


def latest_checkpoint(ckpt_dir: str, resume: bool = True) -> str:
    """The newest ``checkpoint_epoch=N.pt`` in ``ckpt_dir`` (what ``--resume true`` continues from), by epoch
    number, not by name (``epoch=10`` is newer than ``epoch=9``). :class:`ResumableCheckpoint` writes those files
    and loads this one.

    Returns ``""`` when ``resume`` is false.

    Raises:
        FileNotFoundError: ``resume`` is true and there is nothing to resume (the message names the folder).
    """
    if not resume:
        return ""
    found = _epoch_files(ckpt_dir)
    if not found:
        raise FileNotFoundError(
            f"--resume true, but there is no checkpoint_epoch=N.pt in {ckpt_dir} to resume from. Train without "
            "--resume first, or point --ckpt_dir at the interrupted run's checkpoints."
        )
    return found[max(found)]


def _handlers(engine: Engine, event) -> list:
    """The objects behind ``engine``'s handlers of ``event`` (a bound method's instance, or the callable itself)."""
    found = []
    for handler, *_ in getattr(engine, "_event_handlers", {}).get(event, []):
        found.append(getattr(handler, "__self__", handler))
    return found


def _find_best_saver(validator: Engine):
    """The validator's ``CheckpointSaver`` with ``save_key_metric=True`` (the one writing ``model.pt``), or None."""
    for obj in _handlers(validator, Events.EPOCH_COMPLETED):
        if isinstance(obj, CheckpointSaver) and obj._key_metric_checkpoint is not None:
            return obj
    return None


def _rank() -> int:
    dist = torch.distributed
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


class _ValidatorBest:
    """The validator's ``best_metric`` / ``best_metric_epoch`` as a state dict."""

    def __init__(self, validator: Engine) -> None:
        self.validator = validator

    def state_dict(self) -> dict:
        state = self.validator.state
        return {"best_metric": float(state.best_metric), "best_metric_epoch": int(state.best_metric_epoch)}

    def load_state_dict(self, state: dict) -> None:
        self.validator.state.best_metric = float(state["best_metric"])
        self.validator.state.best_metric_epoch = int(state["best_metric_epoch"])


class _BestSaverRecord:
    """The best-model ``CheckpointSaver``'s record (the score of the ``model.pt`` on disk) as a state dict."""

    def __init__(self, saver) -> None:
        checkpoint = getattr(saver, "_key_metric_checkpoint", None)
        if checkpoint is None:
            raise ValueError(f"best_saver must be a CheckpointSaver with save_key_metric=True, got {saver!r}.")
        self.checkpoint = checkpoint

    def state_dict(self) -> dict:
        return {"saved": [(float(item.priority), str(item.filename)) for item in self.checkpoint._saved]}

    def load_state_dict(self, state: dict) -> None:
        self.checkpoint.load_state_dict({"_saved": [tuple(item) for item in state["saved"]]})


class ResumableCheckpoint:
    """Save the whole training state every epoch, and resume from the newest save on request.

    The trainer is taken from :meth:`attach`, so the config needs no reference back to it. Loading happens at
    ``STARTED``, on every rank (``map_location`` puts the tensors on each rank's device), before the other handlers'
    ``STARTED`` when this handler is listed first. Saving is registered at the first ``STARTED``, so it runs after
    every other end-of-epoch handler (validation, LR step, early stop, best-model saver) and the saved state is the
    epoch's final state. Files (rank 0 only, each written atomically): ``checkpoint_epoch=N.pt``, of which the newest
    ``n_saved`` are kept, and ``final_filename`` when training ends. A fresh run (``resume`` false) first deletes the
    epoch checkpoints of an earlier run in ``ckpt_dir``, so that a later ``--resume true`` cannot pick them up.

    Args:
        ckpt_dir: where the checkpoints go.
        save_dict: objects besides the trainer (``{"model": ..., "optimizer": ..., "lr_scheduler": ...}``), each
            with ``state_dict`` / ``load_state_dict``. Trainer handlers with a ``resume_key`` attribute are added
            under that key.
        resume: load the newest ``checkpoint_epoch=N.pt`` of ``ckpt_dir`` first (the bundle's ``--resume true``).
        map_location: passed to ``torch.load``.
        n_saved: how many epoch checkpoints to keep.
        final_filename: the checkpoint written when training ends.
        validator: the evaluator whose ``best_metric`` and ``best_metric_epoch`` are saved and restored, with the
            record of the best score of its ``CheckpointSaver`` with ``save_key_metric=True``.
        best_saver: that ``CheckpointSaver``, when it is not attached to ``validator`` (found there otherwise).
        best_filename: the best-model file of ``ckpt_dir`` (the saver's ``key_metric_filename``). When training
            ends and ``validator`` never selected a best model, the final ``save_dict["model"]`` weights are
            written there instead (rank 0), in the saver's layout (the bare ``state_dict``).

    Raises:
        FileNotFoundError: (at ``attach``) ``resume`` is true but ``ckpt_dir`` holds no checkpoint.
        KeyError: (at ``STARTED``) the checkpoint lacks the model or the trainer.

    Example (bundle config)::

        {"_target_": "monai_cbis.handlers.ResumableCheckpoint", "ckpt_dir": "@ckpt_dir", "resume": "@resume",
         "save_dict": {"model": "@network", "optimizer": "@optimizer", "lr_scheduler": "@lr_scheduler"},
         "validator": "@validate#evaluator", "map_location": "@device"}
    """

    def __init__(
        self,
        ckpt_dir: str,
        save_dict: dict,
        resume: bool = False,
        map_location=None,
        n_saved: int = 1,
        final_filename: str = "model_final.pt",
        validator: Engine | None = None,
        best_saver=None,
        best_filename: str = "model.pt",
    ) -> None:
        if n_saved < 1:
            raise ValueError(f"n_saved must be >= 1, got {n_saved}.")
        self.ckpt_dir, self.save_dict, self.resume = ckpt_dir, dict(save_dict), bool(resume)
        self.map_location, self.n_saved, self.final_filename = map_location, int(n_saved), final_filename
        self.validator, self.best_saver, self.best_filename = validator, best_saver, best_filename
        if best_saver is not None:
            _BestSaverRecord(best_saver)  # fail early on a saver without a key metric
        self.load_path = ""
        self._saver_attached = False

    def attach(self, engine: Engine) -> None:
        if self.resume:
            self.load_path = latest_checkpoint(self.ckpt_dir, resume=True)
            engine.add_event_handler(Events.STARTED, self.load)
        engine.add_event_handler(Events.STARTED, self._attach_saver)

    def objects(self, engine: Engine) -> dict:
        """What one checkpoint holds: ``save_dict``, the trainer, its handlers with a ``resume_key``, the
        validator's best metric and best saver's record, and the AMP gradient scaler when it is enabled."""
        out = dict(self.save_dict)
        for handler in _handlers(engine, Events.EPOCH_COMPLETED):
            key = getattr(handler, "resume_key", None)
            if isinstance(key, str) and key not in out:
                out[key] = handler
        if self.validator is not None:
            out["validator"] = _ValidatorBest(self.validator)
            saver = self.best_saver if self.best_saver is not None else _find_best_saver(self.validator)
            if saver is not None:  # under DDP only rank 0 has it; the others neither save nor need it
                out["best_saver"] = _BestSaverRecord(saver)
        scaler = getattr(engine, "scaler", None)  # MONAI's trainers: a GradScaler under --amp on a GPU
        if scaler is not None and scaler.is_enabled():
            out["scaler"] = scaler
        out["trainer"] = engine
        return out

    def load(self, engine: Engine) -> None:
        """Restore every object of :meth:`objects` from ``load_path``; keeps the trainer's ``max_epochs``."""
        checkpoint = torch.load(self.load_path, map_location=self.map_location, weights_only=True)
        objects = self.objects(engine)
        if "scaler" in objects and not checkpoint.get("scaler"):  # saved without AMP on a GPU
            del objects["scaler"]
            engine.logger.info(f"{self.load_path} holds no AMP scaler state: the gradient scaler starts afresh.")
        missing = [k for k in objects if k not in checkpoint]
        if any(k in missing for k in _REQUIRED):
            raise KeyError(
                f"{self.load_path} has no {missing} (it has {sorted(checkpoint)}): it is not a checkpoint_epoch file "
                "of this bundle. Point --ckpt_dir at the interrupted run's models folder."
            )
        if missing:
            engine.logger.warning(f"{self.load_path} was written by an older version: not restored: {missing}.")
        max_epochs = engine.state.max_epochs
        Checkpoint.load_objects({k: v for k, v in objects.items() if k not in missing}, checkpoint, strict=True)
        if max_epochs is not None and engine.state.epoch > max_epochs:
            raise ValueError(
                f"{self.load_path} is at epoch {engine.state.epoch}, beyond --epochs {max_epochs}: resume with "
                f"--epochs larger than {engine.state.epoch}."
            )
        engine.state.max_epochs = max_epochs
        engine.logger.info(f"Resumed from {self.load_path} at epoch {engine.state.epoch}.")

    def state_dict(self, engine: Engine) -> dict:
        """The checkpoint's content (DDP / DataParallel models unwrapped, as ignite's ``Checkpoint`` saves them)."""
        out = {}
        for key, obj in self.objects(engine).items():
            if isinstance(obj, (torch.nn.parallel.DistributedDataParallel, torch.nn.DataParallel)):
                obj = obj.module
            out[key] = obj.state_dict()
        return out

    def _save(self, state: dict, name: str) -> None:
        atomic_write(os.path.join(self.ckpt_dir, name), lambda f: torch.save(state, f), mode="wb")

    def _attach_saver(self, engine: Engine) -> None:
        if self._saver_attached:
            return
        self._saver_attached = True
        if _rank() == 0:
            self._clean(engine)
        engine.add_event_handler(Events.EPOCH_COMPLETED, self.save_epoch)
        engine.add_event_handler(Events.COMPLETED, self.save_final)

    def _clean(self, engine: Engine) -> None:
        """Remove leftover temporaries, and (fresh run) an earlier run's or (resume) surplus epoch checkpoints."""
        if not os.path.isdir(self.ckpt_dir):
            return
        for name in os.listdir(self.ckpt_dir):
            if is_temporary(name):
                os.remove(os.path.join(self.ckpt_dir, name))
        found = _epoch_files(self.ckpt_dir)
        if not self.resume and found:
            engine.logger.info(f"Fresh run: removing the earlier run's {sorted(found)} epoch checkpoints.")
            for path in found.values():
                os.remove(path)
        else:
            self._prune(keep_up_to=engine.state.epoch)

    def _prune(self, keep_up_to: int) -> None:
        found = _epoch_files(self.ckpt_dir)
        keep = sorted(e for e in found if e <= keep_up_to)[-self.n_saved :]
        for epoch, path in found.items():
            if epoch not in keep:
                os.remove(path)

    def save_epoch(self, engine: Engine) -> None:
        """Write ``checkpoint_epoch=N.pt`` (rank 0), then keep only the newest ``n_saved``."""
        state = self.state_dict(engine)
        if _rank() == 0:
            self._save(state, _PATTERN.format(engine.state.epoch))
            self._prune(keep_up_to=engine.state.epoch)

    def _no_best_model(self) -> str | None:
        """Why the validator selected no best model in this run (resumed runs included), or None when it did."""
        if self.validator is None:
            return None
        if has_no_validation_data(self.validator):
            return "The validation list was empty"
        if int(getattr(self.validator.state, "best_metric_epoch", -1)) < 0:
            return "The validator never ran (is val_interval larger than the epochs?)"
        return None

    def save_final(self, engine: Engine) -> None:
        """Write ``final_filename`` (rank 0); when no best model was selected, also ``best_filename`` (the final
        weights), saying so."""
        state = self.state_dict(engine)
        if _rank() == 0:
            self._save(state, self.final_filename)
            engine.logger.info(f"Train completed, saved final checkpoint: {self.final_filename} in {self.ckpt_dir}")
        why = self._no_best_model()
        if why is None or "model" not in state:
            return
        if _rank() == 0:
            self._save(state["model"], self.best_filename)
        engine.logger.info(
            f"{why}: no best model was selected, so {os.path.join(self.ckpt_dir, self.best_filename)} holds the "
            f"final weights (epoch {engine.state.epoch}), as {self.final_filename} does."
        )
