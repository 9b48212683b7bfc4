"""How a train.json wires the augmentation switches (``--augment_backend opencv``, ``--augment_device cuda:0``) for
the bundles whose preset has them: the two parameters, the preset's arguments, the memory cache and the loader's
arguments, and the trainer's ``prepare_batch`` that augments whole batches on the device."""

from __future__ import annotations

from .bundle_spec import BundleSpec

__all__ = ["AUGMENT_SWITCH_PRESETS", "switchable", "SWITCH_PARAMS", "SWITCH_ARGS", "IN_MEMORY", "PREPARE_BATCH"]

#: Presets with the augmentation switches (``augment_backend``, ``augment_device``): their bundles' train.json gets
#: both as parameters, the memory cache, :func:`monai_cbis.transforms.train_loader` and :data:`PREPARE_BATCH`.
AUGMENT_SWITCH_PRESETS = ("full_mammogram", "roi_crop")

#: The parameters, at their defaults (MONAI's transforms on each item, in the loader).
SWITCH_PARAMS = {"augment_backend": "monai", "augment_device": None}

#: The preset's and the loader's arguments.
SWITCH_ARGS = {"augment_backend": "@augment_backend", "augment_device": "@augment_device"}

#: When the training items are held in memory: the OpenCV pass, or batches augmented on the device (either costs
#: less per item than a read from the disk cache).
IN_MEMORY = "$@augment_backend == 'opencv' or @augment_device is not None"

#: The trainer's ``prepare_batch``: MONAI's default when the preset has no batch augmentation, else the batch moved to
#: ``augment_device`` and augmented there (:class:`monai_cbis.engines.PrepareBatchAugment`).
PREPARE_BATCH = {
    "_target_": "monai_cbis.engines.PrepareBatchAugment",
    "augment": "$@preset.batch",
    "device": "@augment_device",
    "seed": "@seed",
}


def switchable(spec: BundleSpec) -> bool:
    """Whether ``spec``'s preset has the switches."""
    return spec.preset in AUGMENT_SWITCH_PRESETS
