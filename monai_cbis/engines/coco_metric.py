"""The detector's validation metric: COCO average precision at one IoU (MONAI's ``COCOMetric`` through
:func:`monai_cbis.evaluation.detection_map.coco_map`, class-agnostic), as an Ignite metric.

The bundle's key metric is the AP at IoU 0.1 (``val_map_0.1``), the threshold MONAI's lung-nodule bundle validates
with: a lesion box drawn from a mask outline and a predicted box overlap loosely even when the lesion is found, and
0.1 rewards finding it over tracing its edge. The AP at IoU 0.5 is reported beside it (``val_map_0.5``).

Example:
    >>> import torch
    >>> from ignite.engine import Engine
    >>> pred = {"box": torch.tensor([[0.0, 0.0, 10.0, 10.0]]), "label_scores": torch.tensor([0.9])}
    >>> gt = {"box": torch.tensor([[0.0, 0.0, 10.0, 12.0]]), "label": torch.tensor([0])}
    >>> engine = Engine(lambda e, batch: batch)  # per-image outputs, as DetectionEvaluator gives
    >>> DetectionAP(iou=0.5).attach(engine, "ap")
    >>> round(engine.run([[{"pred": pred, "label": gt}]]).metrics["ap"], 4)
    1.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.distributed as dist
from ignite.metrics import Metric
from ignite.metrics.metric import reinit__is_reduced

from ..evaluation.detection_map import coco_map, map_key

__all__ = ["DetectionAP"]


def _numpy(v) -> np.ndarray:
    return v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)


class DetectionAP(Metric):
    """COCO AP at ``iou`` (class-agnostic) over an epoch's ``(predictions, targets)`` lists of box dicts.

    Args:
        iou: the IoU threshold.
        box_key, score_key: keys of the dicts (``RetinaNetDetector`` with ``set_target_keys("box", "label")``).
        max_detections: detections per image that count (COCO's 100).
        output_transform: engine output -> ``(predictions, targets)`` (default: ``from_engine(["pred", "label"])``).

    An epoch without any ground-truth lesion gives 0.0 (and no checkpoint improves on it).
    """

    def __init__(
        self,
        iou: float = 0.1,
        box_key: str = "box",
        score_key: str = "label_scores",
        max_detections: int = 100,
        output_transform: Callable | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        self.iou, self.box_key, self.score_key, self.max_detections = (
            float(iou),
            box_key,
            score_key,
            int(max_detections),
        )
        if output_transform is None:
            from monai.handlers import from_engine

            output_transform = from_engine(["pred", "label"])
        super().__init__(output_transform=output_transform, device=device)

    @reinit__is_reduced
    def reset(self) -> None:
        self._records: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    @reinit__is_reduced
    def update(self, output: Sequence) -> None:
        preds, targets = output[0], output[1]
        for p, t in zip(preds, targets, strict=True):
            if t is None:
                continue
            self._records.append(
                (_numpy(p[self.box_key]).reshape(-1, 4), _numpy(p[self.score_key]).reshape(-1), _numpy(t[self.box_key]))
            )

    def compute(self) -> float:
        records = list(self._records)
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            gathered: list = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, records)
            records = [r for part in gathered for r in part]
        if not records:
            return 0.0
        out = coco_map([r[0] for r in records], [r[1] for r in records], [r[2] for r in records], ious=(self.iou,),
                       max_detections=self.max_detections)  # fmt: skip
        value = out[map_key(self.iou)]
        return 0.0 if value is None else float(value)
