"""Screen a detector's items once, before the loader: an image whose lesion masks give no box is left out and
counted, never fed to the detector as a film "without lesions" (CBIS-DDSM has no normal films: such an image is a
bad mask, not a negative).

:func:`box_items` runs each item's deterministic preprocessing (through the persistent cache, so the first epoch
reads what the screening computed) and looks at its boxes:

* no box at all (every mask empty, or every lesion outside the breast crop): the item is left out, one ``boxes``
  entry ``no_lesion_box`` in the run's ledger (:class:`~monai_cbis.data.skips.SkippedItems`), which the bundle writes
  to ``skipped*.json`` and logs;
* some lesions without a box (``lesions_dropped`` > 0, see :class:`~monai_cbis.transforms.LesionBoxesd` and
  :class:`~monai_cbis.transforms.OriginalToImageBoxd`): the item is kept with the others, one ``lesion_without_box``
  entry says how many lesions it lost.

Example (in a bundle config)::

    "items": {"_target_": "monai_cbis.transforms.box_items", "items": "@train#readable_items",
              "transform": "@train#preprocessing", "cache_dir": "@cache_dir", "skipped": "@skipped"}
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence

from ..data.skips import SkippedItems
from .cache import cached_dataset

__all__ = ["box_items"]

_LOGGER = logging.getLogger(__name__)


def box_items(
    items: Sequence[Mapping],
    transform,
    cache_dir: str | os.PathLike | None = None,
    skipped: SkippedItems | None = None,
    box_key: str = "box",
    dropped_key: str = "lesions_dropped",
    image_key: str = "image",
) -> list[dict]:
    """The ``items`` whose preprocessing gives at least one box, in their order (see the module docstring).

    Args:
        items: image-level datalist items.
        transform: the dataset's transform (a ``Preset`` or transforms) and ``cache_dir`` its persistent cache, as
            given to :func:`~monai_cbis.transforms.cached_dataset` (None: computed without a cache).
        skipped: the run's ledger (``boxes`` stage).
        box_key, dropped_key, image_key: keys of the preprocessed item.

    Raises:
        ValueError: no item gives a box (nothing to train or evaluate on); the message names the first image.
    """
    items = [dict(i) for i in items]
    dataset = cached_dataset(items, transform, cache_dir)
    kept = []
    for item in items:
        out = dataset._cachecheck(item)  # the deterministic part, read from or written to the cache
        n_boxes, dropped = int(len(out[box_key])), int(out.get(dropped_key, 0))
        path = str(item.get(image_key, ""))
        entry = {"path": path, "row": item.get("csv_row"), "patient_id": item.get("patient_id")}
        if n_boxes == 0:
            detail = (
                f"{path}: none of its {dropped} lesion mask(s) gives a box (empty mask, or lesion outside the breast)"
            )
            entry.update(reason="no_lesion_box", detail=detail)
            _LOGGER.warning("skipped %s", detail)
        elif dropped:
            detail = f"{path}: {dropped} lesion mask(s) give no box (empty, or outside the breast); {n_boxes} kept"
            entry.update(reason="lesion_without_box", detail=detail)
            _LOGGER.warning("%s", detail)
        if skipped is not None and "reason" in entry:
            skipped.add(entry, stage="boxes")
        if n_boxes:
            kept.append(item)
    if items and not kept:
        raise ValueError(
            f"None of the {len(items)} images has a lesion box (the first: {items[0].get(image_key)}); check its "
            "ROI masks (`python -m monai_cbis verify DATASET_DIR`)."
        )
    return kept
