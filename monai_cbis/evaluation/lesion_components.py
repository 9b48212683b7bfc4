"""A segmenter's output as scored detections, and a ground-truth mask as lesions (pure numpy + scipy).

* :func:`mask_detections`: the connected components (8-connected) of the predicted mask (``prob >= threshold``, or
  a given binary mask) become detections: box = the component's bounding box, score = the component's highest
  probability. The same scoring as a detector's boxes (:mod:`.froc`), so a segmenter and a detector are compared on
  one scale: lesions found at N false marks per image.
* :func:`mask_lesions`: the ground-truth lesions of an image. A lesion index map (0 background, ``k`` the item's
  k-th mask: :class:`monai_cbis.transforms.LesionIndexMap`, which the full-mammogram pipeline makes beside the merged
  label) or a stack of per-lesion masks ``(N, ...)`` keeps each lesion's identity (one lesion per index or
  channel); a merged label alone (``(1, ...)``: the union of an image's masks) gives one lesion per connected
  component, so two touching masks make one lesion there.
* :func:`score_segmentation`: both, matched, with each lesion's Dice (the lesion's mask against the predicted
  components that touch it).

Boxes are ``[start0, start1, end0, end1]`` in array index order of the two spatial axes, ends exclusive (MONAI's
2-D ``xyxy`` ``StandardMode`` for this project's ``(C, W, H)`` arrays, as :class:`monai_cbis.transforms.MaskToBox`
writes them).

Example:
    >>> prob = np.zeros((8, 8)); prob[1:3, 1:3] = 0.9; prob[5:7, 5:7] = 0.6
    >>> det = mask_detections(prob)
    >>> det["boxes"].tolist(), det["scores"].round(3).tolist()
    ([[1.0, 1.0, 3.0, 3.0], [5.0, 5.0, 7.0, 7.0]], [0.9, 0.6])
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .froc import box_iou, match_image

__all__ = ["mask_detections", "mask_lesions", "score_segmentation"]

_EIGHT = np.ones((3, 3), dtype=bool)


def _spatial(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D map or (1, W, H), got shape {a.shape}.")
    return a


def _labels(binary: np.ndarray) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Component labels (1..n), n, boxes (n, 4) float32 and areas (n,) int64."""
    labels, n = ndimage.label(binary, structure=_EIGHT)
    slices = ndimage.find_objects(labels)
    boxes = np.array([[s[0].start, s[1].start, s[0].stop, s[1].stop] for s in slices], np.float32).reshape(-1, 4)
    areas = np.bincount(labels.ravel(), minlength=n + 1)[1:].astype(np.int64)
    return labels, n, boxes, areas


def mask_detections(prob, threshold: float = 0.5, binary=None, max_detections: int | None = 100) -> dict:
    """Connected components of a predicted mask as scored detections, highest score first.

    Args:
        prob: lesion probability map, 2-D or ``(1, W, H)``.
        threshold: the predicted mask is ``prob >= threshold`` (ignored when ``binary`` is given).
        binary: the predicted mask itself (e.g. after post-processing that removed regions); its components are
            scored by ``prob``.
        max_detections: keep the highest-scoring N components (None: all). A speckled map can have thousands.

    Returns:
        ``{"boxes": (D, 4) float32, "scores": (D,), "areas": (D,) pixels, "labels": the component label map
        (0 = none, i + 1 = detection i), "n_components": components before the cap}``.

    Example:
        >>> mask_detections(np.zeros((4, 4)))["boxes"].shape
        (0, 4)
    """
    p = _spatial(prob, "prob")
    b = p >= threshold if binary is None else _spatial(binary, "binary").astype(bool)
    if b.shape != p.shape:
        raise ValueError(f"binary mask shape {b.shape} differs from the probability map's {p.shape}.")
    labels, n, boxes, areas = _labels(b)
    scores = np.asarray(ndimage.maximum(p, labels, index=np.arange(1, n + 1)), np.float64).reshape(-1)
    order = np.lexsort((boxes[:, 1], boxes[:, 0], -scores)) if n else np.zeros(0, np.int64)  # score, then position
    if max_detections is not None:
        order = order[: int(max_detections)]
    relabel = np.zeros(n + 1, np.int32)
    relabel[order + 1] = np.arange(1, order.size + 1)
    return {
        "boxes": boxes[order],
        "scores": scores[order],
        "areas": areas[order],
        "labels": relabel[labels],
        "n_components": int(n),
    }


def _index_lesions(index, shape: tuple) -> dict:
    """One lesion per index value of a lesion index map (values rounded: a float32 pipeline carries them)."""
    idx = np.rint(_spatial(index, "index")).astype(np.int64)
    if idx.shape != shape:
        raise ValueError(
            f"lesion index map shape {idx.shape} differs from the label's {shape}: it must go through the label's "
            "spatial transforms (or leave it out: SegmentationReportHandler(index_key=None))."
        )
    if idx.size and idx.min() < 0:
        raise ValueError(f"lesion index map has negative values (min {idx.min()}): expected 0 and 1..N.")
    counts = np.bincount(idx.ravel(), minlength=1)
    present = np.flatnonzero(counts[1:]) + 1  # the indices with pixels, ascending
    slices = ndimage.find_objects(idx)  # slices[k - 1]: the box of index k (None where absent)
    boxes = [[s[0].start, s[1].start, s[0].stop, s[1].stop] for s in (slices[k - 1] for k in present)]
    return {
        "boxes": np.asarray(boxes, np.float32).reshape(-1, 4),
        "areas": counts[present].astype(np.int64),
        "masks": idx[None] == present[:, None, None] if present.size else np.zeros((0, *shape), bool),
        "per_channel": True,
        "index": present - 1,
    }


def mask_lesions(label, threshold: float = 0.5, index=None) -> dict:
    """The ground-truth lesions of a label: one per index of ``index`` or per channel of a stack, else one per
    connected component.

    Args:
        label: ``(N, W, H)`` per-lesion masks with ``N > 1`` (identity kept), or a merged 2-D / ``(1, W, H)`` label
            (one lesion per 8-connected component). Lesion is ``value >= threshold``.
        index: the label's lesion index map (2-D or ``(1, W, H)``: 0 background, ``k`` the k-th mask of the item),
            or None. When given, each index present is one lesion (its pixels, as the map assigns overlaps) and the
            label only fixes the shape.

    Returns:
        ``{"boxes": (G, 4) float32, "areas": (G,) pixels, "masks": (G, W, H) bool, "per_channel": bool,
        "index": (G,) int or None}``: ``index`` is each lesion's 0-based position among the item's masks (its
        channel in a stack; None for components); an empty channel, or an index with no pixel left, gives no
        lesion.

    Example:
        >>> lab = np.zeros((1, 6, 6)); lab[0, :2, :2] = 1; lab[0, 4:, 4:] = 1
        >>> les = mask_lesions(lab)
        >>> les["boxes"].tolist(), les["areas"].tolist(), les["per_channel"]
        ([[0.0, 0.0, 2.0, 2.0], [4.0, 4.0, 6.0, 6.0]], [4, 4], False)
        >>> idx = np.zeros((1, 6, 6)); idx[0, :2, :2] = 1; idx[0, :2, 2:4] = 3  # two touching lesions: 1st and 3rd
        >>> les = mask_lesions(idx > 0, index=idx)
        >>> les["boxes"].tolist(), les["index"].tolist()
        ([[0.0, 0.0, 2.0, 2.0], [0.0, 2.0, 2.0, 4.0]], [0, 2])
    """
    a = np.asarray(label)
    if index is not None:
        return _index_lesions(index, a.shape[1:] if a.ndim == 3 else a.shape)
    if a.ndim == 3 and a.shape[0] > 1:
        masks = [a[c] >= threshold for c in range(a.shape[0])]
        kept = [c for c, m in enumerate(masks) if m.any()]
        masks = [masks[c] for c in kept]
        boxes = []
        for m in masks:
            (s0, s1) = ndimage.find_objects(m.astype(np.int8))[0]
            boxes.append([s0.start, s1.start, s0.stop, s1.stop])
        shape = a.shape[1:]
        return {
            "boxes": np.asarray(boxes, np.float32).reshape(-1, 4),
            "areas": np.asarray([int(m.sum()) for m in masks], np.int64),
            "masks": np.stack(masks) if masks else np.zeros((0, *shape), bool),
            "per_channel": True,
            "index": np.asarray(kept, np.int64),
        }
    b = _spatial(a, "label") >= threshold
    labels, n, boxes, areas = _labels(b)
    masks = labels[None] == np.arange(1, n + 1)[:, None, None] if n else np.zeros((0, *b.shape), bool)
    return {"boxes": boxes, "areas": areas, "masks": masks, "per_channel": False, "index": None}


def score_segmentation(
    label,
    prob,
    threshold: float = 0.5,
    binary=None,
    criterion: str = "box_iou",
    hit_threshold: float = 0.1,
    max_detections: int | None = 100,
    index=None,
) -> dict:
    """One image of a segmenter, at lesion level: detections, lesions, hits and each lesion's Dice.

    Args:
        label: ground truth, as for :func:`mask_lesions`.
        prob, threshold, binary, max_detections: as for :func:`mask_detections`.
        criterion: ``"box_iou"`` (component box vs lesion box) or ``"mask_iou"`` (pixels), see :mod:`.froc`.
        hit_threshold: the overlap at which a component hits a lesion.
        index: the label's lesion index map, or None (see :func:`mask_lesions`).

    Returns:
        ``{"detections": mask_detections(...) without the label map, "lesions": mask_lesions(...) without the masks,
        "match": match_image(...), "lesion_dice": (G,)}``. A lesion's Dice is ``2 |L n P| / (|L| + |P|)``, ``P`` the
        union of the predicted components that overlap the lesion ``L`` (0 when none does).

    Example:
        >>> lab = np.zeros((6, 6)); lab[:2, :2] = 1
        >>> prob = np.zeros((6, 6)); prob[:2, :1] = 0.8; prob[4:, 4:] = 0.7
        >>> r = score_segmentation(lab, prob)
        >>> r["match"]["found_score"].tolist(), r["match"]["fp_scores"].tolist(), r["lesion_dice"].round(4).tolist()
        ([0.8], [0.7], [0.6667])
    """
    det = mask_detections(prob, threshold, binary, max_detections)
    les = mask_lesions(label, threshold, index)
    d_labels, d_areas, masks = det.pop("labels"), det["areas"], les.pop("masks")
    n_det, n_les = d_areas.size, masks.shape[0]
    if masks.shape[1:] != d_labels.shape:
        raise ValueError(f"label spatial shape {masks.shape[1:]} differs from the prediction's {d_labels.shape}.")
    # pixels shared by lesion g and detection d (detections are disjoint; lesions of a stack may overlap)
    inter = np.zeros((n_les, n_det), np.int64)
    for g in range(n_les):
        inter[g] = np.bincount(d_labels[masks[g]], minlength=n_det + 1)[1:]
    if criterion == "box_iou":
        overlap = box_iou(det["boxes"], les["boxes"])
    elif criterion == "mask_iou":
        union = les["areas"][:, None] + d_areas[None, :] - inter
        overlap = np.divide(inter, union, out=np.zeros(inter.shape), where=union > 0).T
    else:
        raise ValueError(f"Unsupported hit criterion: {criterion!r}, available options are ['box_iou', 'mask_iou'].")
    touching = inter > 0
    p_area = (touching * d_areas[None, :]).sum(axis=1)
    p_inter = inter.sum(axis=1)
    denom = les["areas"] + p_area
    dice = np.divide(2.0 * p_inter, denom, out=np.zeros(n_les), where=denom > 0)
    return {"detections": det, "lesions": les, "match": match_image(det["scores"], overlap, hit_threshold),
            "lesion_dice": dice}  # fmt: skip
