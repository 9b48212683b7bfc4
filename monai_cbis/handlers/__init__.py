"""Ignite handlers that let bundle configs resume, stop early, schedule the LR and clip gradients.

MONAI's ``CheckpointLoader`` / ``CheckpointSaver`` (with ``"trainer"`` in their dicts) and
``EarlyStopHandler(trainer=...)`` need the trainer, but they sit in lists that the trainer itself references, so a
config cannot wire them without circular references or ``$`` expressions that index into handler lists. These
handlers take the trainer from ``attach(engine)`` instead and are declared in ``train#handlers`` like any other.
One module per topic: ``checkpoint`` (resume), ``early_stop``, ``lr_schedule``, ``clipping``, ``validation``
(reading the validator's metrics), ``csv_writer`` (a classifier's inference CSV), ``detection_writer`` (a
detector's per-image box JSON and overlay).

Example (bundle config)::

    {"_target_": "monai_cbis.handlers.ResumableCheckpoint", "ckpt_dir": "@ckpt_dir", "resume": "@resume",
     "save_dict": {"model": "@network", "optimizer": "@optimizer", "early_stop": "@train#early_stop"},
     "validator": "@validate#evaluator", "best_saver": "@validate#best_saver", "map_location": "@device"},
    {"_target_": "monai_cbis.handlers.EarlyStopOnValidation", "validator": "@validate#evaluator",
     "metric_name": "val_mean_dice", "patience": 10}
"""

from __future__ import annotations

from .checkpoint import ResumableCheckpoint, latest_checkpoint
from .clipping import GradientClipping
from .csv_writer import ClassificationCSVWriter, class_scores_and_indices
from .detection_writer import DetectionWriter
from .early_stop import EarlyStopOnValidation
from .gate_log import RemovedFindingsLogger
from .lr_schedule import lr_schedule_handler
from .validation import has_no_validation_data, split_key_metric, validator_metric

__all__ = [
    "ClassificationCSVWriter",
    "DetectionWriter",
    "EarlyStopOnValidation",
    "GradientClipping",
    "RemovedFindingsLogger",
    "ResumableCheckpoint",
    "class_scores_and_indices",
    "has_no_validation_data",
    "latest_checkpoint",
    "lr_schedule_handler",
    "split_key_metric",
    "validator_metric",
]
