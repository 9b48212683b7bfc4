"""Ignite engines and metrics the detection bundle's configs call: the detector's trainer and evaluator
(MONAI's supervised engines with the detection iteration) and its COCO AP validation metric."""

from __future__ import annotations

from .coco_metric import DetectionAP
from .detection import (
    DetectionEvaluator,
    DetectionLoss,
    DetectionTrainer,
    DetectorInferer,
    detection_prepare_batch,
)

__all__ = [
    "DetectionTrainer",
    "DetectionEvaluator",
    "DetectorInferer",
    "DetectionLoss",
    "detection_prepare_batch",
    "DetectionAP",
]
