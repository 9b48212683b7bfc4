"""Ignite engines and metrics the bundles' configs call: the detector's trainer and evaluator (MONAI's supervised
engines with the detection iteration), its COCO AP validation metric, and the ``prepare_batch`` that augments whole
batches on the GPU (``--augment_device``)."""

from __future__ import annotations

from .coco_metric import DetectionAP
from .detection import (
    DetectionEvaluator,
    DetectionLoss,
    DetectionTrainer,
    DetectorInferer,
    detection_prepare_batch,
)
from .prepare import PrepareBatchAugment

__all__ = [
    "DetectionTrainer",
    "DetectionEvaluator",
    "DetectorInferer",
    "DetectionLoss",
    "detection_prepare_batch",
    "DetectionAP",
    "PrepareBatchAugment",
]
