"""COCO mean average precision of lesion detections, through MONAI's own detection metrics.

:func:`coco_map` hands the boxes to ``monai.apps.detection.metrics.matching.matching_batch`` (greedy one-to-one
matching by score, per IoU threshold, with ``monai.data.box_utils.box_iou``) and
``monai.apps.detection.metrics.coco.COCOMetric`` (101-point interpolated precision, COCO's rule), the pair MONAI's
``lung_nodule_ct_detection`` bundle validates with. Both work on 2-D boxes as they are: the matching only calls the
IoU function, and ``box_iou`` reads the spatial dimensions from the box width (4 numbers: 2-D).

Class-agnostic: every box is a "lesion" (class 0), as the FROC counts lesions. ``COCOMetric`` averages the precision
of every class it is told about, and a class absent from the ground truth keeps its initial -1 and drags the
average down; one class avoids that. With no ground-truth lesion at all the mAP is undefined (None).

Example:
    >>> import numpy as np
    >>> m = coco_map([np.array([[0, 0, 10, 10]])], [np.array([0.9])], [np.array([[0, 0, 10, 12]])])
    >>> round(m["map_at_iou_0.1"], 4), round(m["map_at_iou_0.5"], 4)
    (1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["MAP_IOUS", "map_key", "coco_map"]

#: IoU thresholds whose AP is reported.
MAP_IOUS = (0.1, 0.5)


def map_key(iou: float) -> str:
    """The ``metrics.json`` key of the AP at ``iou``.

    Example:
        >>> map_key(0.1)
        'map_at_iou_0.1'
    """
    return f"map_at_iou_{float(iou):g}"


def coco_map(
    pred_boxes: Sequence,
    pred_scores: Sequence,
    gt_boxes: Sequence,
    ious: Sequence[float] = MAP_IOUS,
    max_detections: int = 100,
) -> dict:
    """AP at each IoU of ``ious`` and the mean AP over IoU 0.1 to 0.5 (step 0.05), class-agnostic.

    Args:
        pred_boxes: per image, ``(D, 4)`` boxes ``xyxy`` (MONAI ``StandardMode``).
        pred_scores: per image, ``(D,)`` scores.
        gt_boxes: per image, ``(G, 4)`` ground-truth boxes (images without lesions: ``(0, 4)``).
        ious: the IoU thresholds reported one by one (:func:`map_key`).
        max_detections: detections per image that count (highest scores first), as COCO's 100.

    Returns:
        ``{map_key(iou): AP, ..., "map_iou_0.1_to_0.5": mean AP, "mar_iou_0.1_to_0.5": mean recall, "n_images",
        "n_lesions", "max_detections"}``; the APs are None when there is no ground-truth lesion.
    """
    from monai.apps.detection.metrics.coco import COCOMetric
    from monai.apps.detection.metrics.matching import matching_batch
    from monai.data.box_utils import box_iou as monai_box_iou

    if not (len(pred_boxes) == len(pred_scores) == len(gt_boxes)):
        raise ValueError(
            f"coco_map needs one entry per image in each list, got {len(pred_boxes)} prediction boxes, "
            f"{len(pred_scores)} score arrays and {len(gt_boxes)} ground-truth box arrays."
        )
    pb = [np.asarray(b, np.float32).reshape(-1, 4) for b in pred_boxes]
    ps = [np.asarray(s, np.float32).reshape(-1) for s in pred_scores]
    gb = [np.asarray(b, np.float32).reshape(-1, 4) for b in gt_boxes]
    n_lesions = int(sum(b.shape[0] for b in gb))
    out: dict = {map_key(i): None for i in ious}
    out.update({"map_iou_0.1_to_0.5": None, "mar_iou_0.1_to_0.5": None})
    out.update({"n_images": len(gb), "n_lesions": n_lesions, "max_detections": int(max_detections)})
    if n_lesions == 0:
        return out
    metric = COCOMetric(classes=["lesion"], iou_list=tuple(ious), iou_range=(0.1, 0.5, 0.05),
                        max_detection=(int(max_detections),), per_class=False, verbose=False)  # fmt: skip
    results = matching_batch(
        iou_fn=monai_box_iou,
        iou_thresholds=metric.iou_thresholds,
        pred_boxes=pb,
        pred_classes=[np.zeros(b.shape[0], np.int64) for b in pb],
        pred_scores=ps,
        gt_boxes=gb,
        gt_classes=[np.zeros(b.shape[0], np.int64) for b in gb],
        max_detections=int(max_detections),
    )
    values, _ = metric(results)
    for iou in ious:
        out[map_key(iou)] = float(values[f"AP_IoU_{iou:.2f}_MaxDet_{int(max_detections)}"])
    out["map_iou_0.1_to_0.5"] = float(values[f"mAP_IoU_0.10_0.50_0.05_MaxDet_{int(max_detections)}"])
    out["mar_iou_0.1_to_0.5"] = float(values[f"mAR_IoU_0.10_0.50_0.05_MaxDet_{int(max_detections)}"])
    return out
