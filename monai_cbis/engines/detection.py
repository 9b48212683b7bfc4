"""Ignite engines for the RetinaNet detector: MONAI's ``SupervisedTrainer`` / ``SupervisedEvaluator`` with the
detection iteration, as in MONAI's ``lung_nodule_ct_detection`` bundle.

The detector (``monai.apps.detection.networks.retinanet_detector.RetinaNetDetector``) takes a *list* of images (each
``(C, W, H)``, sizes may differ) and, when training, a list of target dicts ``{"box", "label"}``; it returns its
losses while training and a list of ``{"box", "label", "label_scores"}`` when evaluating. Everything else is the
supervised engines' own (AMP with its gradient scaler, gradient accumulation, events, handlers), so the pieces here
are small:

* :func:`detection_prepare_batch`: a batch of items (``no_collation``; a random patch transform may give a list
  per item) -> ``(images, targets, (), {"targets": targets})``, the four-tuple the engines unpack;
* :class:`DetectorInferer`: ``inferer(images, network, targets=...)`` runs the detector around ``network`` (the
  trained ``RetinaNet``, DDP-wrapped or not, is what the checkpoint holds);
* :class:`DetectionLoss`: the trainer's ``loss_function``: weighted classification + box-regression loss;
* :class:`DetectionTrainer` / :class:`DetectionEvaluator`: those defaults, and per-image outputs
  ``{"image", "label": target, "pred": detections}`` after the evaluator's iteration.

Example:
    >>> import torch
    >>> batch = [{"image": torch.zeros(1, 8, 8), "box": torch.zeros(0, 4), "label": torch.zeros(0, dtype=torch.long)}]
    >>> images, targets, args, kwargs = detection_prepare_batch(batch)
    >>> len(images), sorted(targets[0]), kwargs["targets"] is targets
    (1, ['box', 'label'], True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
from monai.engines import SupervisedEvaluator, SupervisedTrainer
from monai.engines.utils import IterationEvents
from monai.inferers import Inferer
from monai.utils.enums import CommonKeys as Keys

__all__ = ["detection_prepare_batch", "DetectorInferer", "DetectionLoss", "DetectionTrainer", "DetectionEvaluator"]


def _flatten(batch) -> list[Mapping]:
    out: list[Mapping] = []
    for item in batch if isinstance(batch, (list, tuple)) else [batch]:
        out.extend(_flatten(item) if isinstance(item, (list, tuple)) else [item])
    return out


def detection_prepare_batch(
    batchdata: Sequence,
    device: str | torch.device | None = None,
    non_blocking: bool = False,
    box_key: str = "box",
    label_key: str = "label",
    **kwargs,
) -> tuple[list[torch.Tensor], list[dict] | None, tuple, dict]:
    """Images and targets of a ``no_collation`` batch, moved to ``device``.

    Items without boxes (inference) give ``targets=None``. Returns ``(images, targets, (), {"targets": targets})``:
    the supervised engines pass the last two on to the inferer (:class:`DetectorInferer`).
    """
    items = _flatten(batchdata)
    images = [d["image"].to(device=device, non_blocking=non_blocking, **kwargs) for d in items]
    targets = None
    if items and all(isinstance(d.get(box_key), torch.Tensor) for d in items):
        targets = [
            {
                box_key: d[box_key].to(device=device, non_blocking=non_blocking, dtype=torch.float32),
                label_key: torch.as_tensor(d[label_key]).to(device=device, non_blocking=non_blocking, dtype=torch.long),
            }
            for d in items
        ]
    return images, targets, (), {"targets": targets}


class DetectorInferer(Inferer):
    """Run a ``RetinaNetDetector`` around the engine's network: losses in training mode, detections otherwise.

    Args:
        detector: the detector (:func:`monai_cbis.networks.retinanet_detector`).
        sliding_window: in evaluation, use the detector's sliding-window inferer (it must have one).
    """

    def __init__(self, detector, sliding_window: bool = False) -> None:
        super().__init__()
        self.detector = detector
        self.sliding_window = bool(sliding_window)

    def __call__(self, inputs, network: torch.nn.Module, *args, targets=None, **kwargs):
        self.detector.network = network
        self.detector.training = network.training  # only the flag: train()/eval() would recurse into the network
        if network.training:
            return self.detector(inputs, targets)
        return self.detector(inputs, use_inferer=self.sliding_window)


class DetectionLoss(torch.nn.Module):
    """The detector's loss: ``cls_weight * classification + box_weight * box_regression``.

    Example:
        >>> import torch
        >>> DetectionLoss(box_weight=0.5)({"classification": torch.tensor(1.0), "box_regression": torch.tensor(2.0)})
        tensor(2.)
    """

    def __init__(
        self,
        cls_weight: float = 1.0,
        box_weight: float = 1.0,
        cls_key: str = "classification",
        box_key: str = "box_regression",
    ) -> None:
        super().__init__()
        self.cls_weight, self.box_weight, self.cls_key, self.box_key = cls_weight, box_weight, cls_key, box_key

    def forward(self, losses: Mapping[str, torch.Tensor], targets=None) -> torch.Tensor:
        return self.cls_weight * losses[self.cls_key] + self.box_weight * losses[self.box_key]


def _detached(target: Mapping | None) -> dict | None:
    return None if target is None else {k: v.detach() for k, v in target.items()}


class _PerImageOutputs:
    """Engine mixin: after the model runs, the iteration's output becomes one dict per image, ``{"image", "label":
    its target (detached) or None}``, plus its detections under ``"pred"`` (``per_image_pred``) and the batch loss
    under ``"loss"`` when the output has one (training)."""

    per_image_pred = False

    def _register_decollate(self):
        @self.on(IterationEvents.MODEL_COMPLETED)
        def _per_image(engine) -> None:
            out = engine.state.output
            labels = out.get(Keys.LABEL)
            rows = []
            for i, image in enumerate(out[Keys.IMAGE]):
                row = {Keys.IMAGE: image, Keys.LABEL: None if labels is None else _detached(labels[i])}
                if self.per_image_pred:
                    row[Keys.PRED] = _detached(out[Keys.PRED][i])
                if Keys.LOSS in out:
                    row[Keys.LOSS] = out[Keys.LOSS].detach()
                rows.append(row)
            engine.state.output = rows


class DetectionTrainer(_PerImageOutputs, SupervisedTrainer):
    """``SupervisedTrainer`` for the detector: ``network`` is the ``RetinaNet`` (what checkpoints and DDP hold),
    ``detector`` wraps it; the batch is a list of items (``no_collation``).

    Args:
        detector: the ``RetinaNetDetector`` around ``network``.
        loss_function: defaults to :class:`DetectionLoss`; inferer: defaults to ``DetectorInferer(detector)``.
        other arguments: as ``monai.engines.SupervisedTrainer`` (``amp`` included). Each iteration's output
            becomes one dict per image, ``{"image", "label": target, "loss"}`` (the batch loss on each), so the
            loss handlers' ``from_engine(["loss"], first=True)`` reads it as for the other bundles.
    """

    def __init__(
        self,
        device: str | torch.device,
        max_epochs: int,
        train_data_loader: Iterable,
        network: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        detector,
        loss_function: Callable | None = None,
        prepare_batch: Callable = detection_prepare_batch,
        inferer: Inferer | None = None,
        **kwargs,
    ) -> None:
        super().__init__(
            device=device,
            max_epochs=max_epochs,
            train_data_loader=train_data_loader,
            network=network,
            optimizer=optimizer,
            loss_function=loss_function if loss_function is not None else DetectionLoss(),
            prepare_batch=prepare_batch,
            inferer=inferer if inferer is not None else DetectorInferer(detector),
            **kwargs,
        )
        self.detector = detector


class DetectionEvaluator(_PerImageOutputs, SupervisedEvaluator):
    """``SupervisedEvaluator`` for the detector; each iteration's output becomes one dict per image,
    ``{"image", "label": {"box", "label"} or None, "pred": {"box", "label", "label_scores"}}``, on which
    ``postprocessing`` and the metrics run.

    Args:
        detector: the ``RetinaNetDetector`` around ``network``.
        inferer: defaults to ``DetectorInferer(detector)`` (whole images; ``sliding_window=True`` for windows).
        other arguments: as ``monai.engines.SupervisedEvaluator``.
    """

    per_image_pred = True

    def __init__(
        self,
        device: str | torch.device,
        val_data_loader: Iterable,
        network: torch.nn.Module,
        detector,
        prepare_batch: Callable = detection_prepare_batch,
        inferer: Inferer | None = None,
        **kwargs,
    ) -> None:
        super().__init__(
            device=device,
            val_data_loader=val_data_loader,
            network=network,
            prepare_batch=prepare_batch,
            inferer=inferer if inferer is not None else DetectorInferer(detector),
            **kwargs,
        )
        self.detector = detector
