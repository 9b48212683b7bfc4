"""The film scale a crop-trained segmenter learned at, for running it on whole films (``evaluate_films.json``).

Paper B's segmenters (``roi_crop`` preset) see each lesion's box plus ``margin`` full-film pixels on every side,
resized to ``image_size``: a network pixel covers ``crop side / image_size`` film pixels, a different scale per
lesion. To run such a network over whole films with a sliding window, the film is divided by one integer
``downsample`` (the ``highres`` preset): :func:`film_scale` derives it from the training data.

The rule (``downsample="auto"``): each training lesion's scale is the geometric mean of its crop's two axis scales,
``sqrt((w / W) * (h / H))`` for a ``w x h`` crop resized to ``W x H`` (the isotropic scale with the same area: the
crops are resized without keeping their aspect); the film is divided by the median of these over the training
section's lesions, rounded to the nearest integer, at least 1. A median below 1 means the crops were enlarged:
the films are then evaluated at their own pixels (1), where lesions look smaller than in training (a warning says
by how much). Each crop box is :class:`~monai_cbis.transforms.CropByROI`'s own (largest lesion, margin, clipping),
computed from the masks once; the scales are kept in ``cache_dir`` (keyed by the mask files' paths, sizes and
modification times and the crop settings), so later evaluations read no mask.

Example:
    >>> import numpy as np
    >>> mask = np.zeros((1, 400, 300), np.uint8); mask[0, 100:292, 50:242] = 255  # a 192 x 192 lesion
    >>> crop_scale(mask, image_size=64, margin=0)  # 192 film pixels onto 64
    3.0
    >>> downsample_from_scales([2.4, 3.0, 4.1])
    3
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
from monai.utils import ensure_tuple_rep

from ..atomic import atomic_write_json
from ..data.files import read_array
from .cache import item_fingerprint
from .crop import CropByROI

__all__ = ["AUTO", "crop_scale", "crop_scales", "downsample_from_scales", "film_scale"]

_LOGGER = logging.getLogger(__name__)

#: the ``downsample`` value that derives the factor from the training crops.
AUTO = "auto"

_RULE = (
    "median over the training lesions of sqrt((crop width / image width) * (crop height / image height)), the crop "
    "being the roi_crop preset's (largest lesion's box + margin, clipped to the film), rounded to the nearest "
    "integer, at least 1"
)


def crop_scale(mask: np.ndarray, image_size: int | Sequence[int], margin: int | Sequence[int] = 0,
               min_size: int | Sequence[int] | None = None, square: bool = False) -> float:  # fmt: skip
    """Film pixels per network pixel of one lesion's crop: ``sqrt((w / W) * (h / H))``.

    Args:
        mask: the lesion's mask, channel-first ``(C, W, H)`` as the loader gives it.
        image_size: the network's ``(W, H)`` (one int: square).
        margin, min_size, square: the crop's settings (:class:`~monai_cbis.transforms.CropByROI`).

    Raises:
        ValueError: the mask has no lesion (CropByROI's message).
    """
    start, end = CropByROI(margin=margin, min_size=min_size, square=square).compute_box(mask)
    sides = (end - start).astype(np.float64)
    size = np.asarray(ensure_tuple_rep(image_size, 2), dtype=np.float64)
    return float(np.sqrt(np.prod(sides / size)))


def _cache_path(cache_dir: str, masks: Sequence[str], settings: Mapping) -> str:
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for path in masks:
        h.update(item_fingerprint(path))
    return os.path.join(cache_dir, "film_scale", f"{h.hexdigest()}.json")


def crop_scales(items: Sequence[Mapping], image_size: int | Sequence[int], margin: int | Sequence[int] = 0,
                min_size: int | Sequence[int] | None = None, square: bool = False, mask_key: str = "label",
                cache_dir: str | None = None, skipped: list | None = None) -> list[float]:  # fmt: skip
    """:func:`crop_scale` of every item's mask (``item[mask_key]``, a file path), read once: with ``cache_dir``
    the list is stored there and read back while the masks and settings are unchanged.

    ``skipped``: None raises on a mask that cannot be read or has no lesion; a list receives
    ``{"path", "reason"}`` for each such mask instead, and the mask is left out (training skips the same rows with
    ``--skip_unreadable true``).

    Raises:
        KeyError: an item without ``mask_key`` (the message gives its keys).
        ValueError: a mask that cannot be read or has no lesion, when ``skipped`` is None; the message names it.
    """
    masks = []
    for i, item in enumerate(items):
        if mask_key not in item:
            raise KeyError(f"Item {i} has no {mask_key!r} (its keys: {sorted(item)}): the crop scale needs its mask.")
        masks.append(str(item[mask_key]))
    settings = {"image_size": image_size, "margin": margin, "min_size": min_size, "square": square}
    cached = _cache_path(cache_dir, masks, settings) if cache_dir else None
    if cached and os.path.isfile(cached):
        with open(cached, encoding="utf-8") as f:
            stored = json.load(f)
        if stored.get("skipped") and skipped is None:  # scales computed with skips: recompute to raise
            stored = None
        if stored is not None:
            if skipped is not None:
                skipped.extend(stored.get("skipped", []))
            return [float(s) for s in stored["scales"]]
    scales, left_out = [], []
    for path in masks:
        try:  # UnreadableImageError (a damaged or missing file) is a ValueError too
            scales.append(crop_scale(read_array(path).T[None], image_size, margin, min_size, square))
        except ValueError as e:
            if skipped is None:
                raise ValueError(f"{path}: cannot derive its crop's scale: {e}") from e
            left_out.append({"path": path, "reason": str(e)})
    if skipped is not None:
        skipped.extend(left_out)
    if cached:
        atomic_write_json({"settings": settings, "masks": masks, "scales": scales, "skipped": left_out}, cached)
    return scales


def downsample_from_scales(scales: Sequence[float]) -> int:
    """The integer film downsample for crop scales: their median rounded to the nearest integer (halves up), at
    least 1.

    Raises:
        ValueError: no scales.
    """
    if len(scales) == 0:
        raise ValueError("No crop scales: the training section has no lesion to derive the film scale from.")
    return max(1, math.floor(float(np.median(scales)) + 0.5))


def film_scale(downsample: int | str, preset, items: Sequence[Mapping] = (), mask_key: str = "label",
               cache_dir: str | None = None) -> dict:  # fmt: skip
    """The integer factor whole films are divided by for a network trained on ``preset``'s crops, and how it was
    chosen (a dict, which the whole-film report records as ``film_scale`` in ``metrics.json``).

    Args:
        downsample: an int >= 1 (used as given), or ``"auto"``: derived from ``items`` (see the module's rule).
        preset: the crop preset the network was trained with (its ``params``: ``image_size``, ``margin``,
            ``min_size``, ``square``; the ``roi_crop`` preset).
        items: the training section's lesion items (one per CSV row, the mask under ``mask_key``); read only for
            ``"auto"``.
        mask_key, cache_dir: as :func:`crop_scales`.

    Returns:
        ``{"downsample": int, "requested": downsample, "rule": text}``; with ``"auto"`` also ``n_lesions``,
        ``median_crop_scale``, the scales' ``quartiles``, and the training masks left out (``n_skipped``, ``skipped``:
        ``{"path", "reason"}`` each, also logged as a warning).

    Raises:
        ValueError: ``downsample`` is neither ``"auto"`` nor an int >= 1, or ``"auto"`` has no items.
    """
    if downsample != AUTO:
        if isinstance(downsample, bool) or not isinstance(downsample, int) or downsample < 1:
            raise ValueError(
                f"Unsupported film_downsample: {downsample!r}, available options are {AUTO!r} or an int >= 1."
            )
        _LOGGER.info(f"Whole films divided by {downsample} (film_downsample as given).")
        return {"downsample": downsample, "requested": downsample, "rule": "given"}
    p, skipped = preset.params, []
    scales = crop_scales(items, p["image_size"], p.get("margin", 0), p.get("min_size"), p.get("square", False),
                         mask_key=mask_key, cache_dir=cache_dir, skipped=skipped)  # fmt: skip
    if skipped:
        names = "; ".join(f"{s['path']} ({s['reason']})" for s in skipped[:5])
        _LOGGER.warning(
            f"Left {len(skipped)} training mask(s) out of the film scale (unreadable or without a lesion, as training "
            f"skips them with --skip_unreadable true): {names}{' ...' if len(skipped) > 5 else ''}"
        )
    factor = downsample_from_scales(scales)
    median = float(np.median(scales))
    q1, q3 = (float(q) for q in np.percentile(scales, [25, 75]))
    _LOGGER.info(
        f"Whole films divided by {factor}: the median training crop scale is {median:.2f} film pixels per network "
        f"pixel over {len(scales)} lesions (quartiles {q1:.2f}, {q3:.2f})."
    )
    if median < 1:
        _LOGGER.warning(
            f"The training crops were enlarged (median scale {median:.2f}): films are evaluated at their own pixels, "
            f"where lesions look {1 / median:.1f} times smaller than the network saw them."
        )
    return {"downsample": factor, "requested": AUTO, "rule": _RULE, "n_lesions": len(scales),
            "median_crop_scale": median, "quartiles": [q1, q3], "n_skipped": len(skipped),
            "skipped": skipped}  # fmt: skip
