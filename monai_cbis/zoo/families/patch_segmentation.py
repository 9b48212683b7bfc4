"""The patch-segmentation family (issue 14): the segmentation family's masks, metrics, lesion-level report, outputs
and breast gate, with a network trained on patches and run on the whole film by a sliding window.

What differs from :data:`~monai_cbis.zoo.families.segmentation.SEGMENTATION`: training's inferer stays MONAI's
``SimpleInferer`` (a batch of patches), validation, evaluation and inference use a ``SlidingWindowInferer`` whose
window is the training patch (``patch_size``) with its overlap, blending and window batch as parameters; the
evaluated films keep their own sizes, so their loader takes one film at a time; ``metadata.json`` describes the
network's input and output as patches. Its reports are segmentation reports (``report_kind``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .base import sliding_window
from .segmentation import SEGMENTATION

if TYPE_CHECKING:
    from ..specs import BundleSpec

__all__ = ["PATCH_SEGMENTATION", "SLIDING_WINDOW"]

#: Validation, evaluation and inference: windows of the training patch over the whole working film.
SLIDING_WINDOW = sliding_window("@patch_size")


def _patch_params(spec: BundleSpec) -> dict:
    """The patch side (``spec.image_size``) and the sliding window's settings, top-level in train.json and
    inference.json."""
    return {
        "patch_size": [spec.image_size, spec.image_size],
        "sw_batch_size": 4,
        "sw_overlap": 0.25,
        "sw_mode": "gaussian",
    }


def _patch_output(spec: BundleSpec) -> dict:
    return {**SEGMENTATION.pred_output(spec), "is_patch_data": True}


PATCH_SEGMENTATION = dataclasses.replace(
    SEGMENTATION,
    name="patch_segmentation",
    pred_output=_patch_output,
    size_params=_patch_params,
    input_is_patch=True,
    validation_inferer=SLIDING_WINDOW,
    validation_batch_size=1,
    report_kind="segmentation",
)
