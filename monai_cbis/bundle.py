"""Compatibility names: ``monai_cbis.bundle.<name>`` keeps working for configs and code written against it.

The helpers that bundle configs call by ``_target_`` used to live here together. Each now lives where the data flow
puts it; use those homes in new code and configs:

============================================  =====================================================================
old name (``monai_cbis.bundle.``)             new home
============================================  =====================================================================
``DEMO``, ``cache_root``, ``demo_data_dir``,  :mod:`monai_cbis.data.demo` (which folder holds the data; the
``resolve_dataset_dir``                       synthetic demo when ``dataset_dir`` is empty)
``section_items``, ``lesion_items``,          :mod:`monai_cbis.data.items` (a section's items, the rule that
``pathology_classes``                         ``CBISDDSMDataset`` uses too)
``folder_items``, ``inference_items``,        :mod:`monai_cbis.data.inference_inputs` (what inference runs on)
``inference_root``,
``lesion_inference_items``,
``lesion_inference_root``
``CLASS_BALANCE``, ``train_sampler``,         :mod:`monai_cbis.data.sampling` (beside the class-balanced samplers)
``loss_class_weights``
``latest_checkpoint``                         :mod:`monai_cbis.handlers` (beside ``ResumableCheckpoint``)
``infer_bundle_root``                         :mod:`monai_cbis.bundle_root` (where the running bundle lives)
============================================  =====================================================================

Every name except ``infer_bundle_root`` and ``latest_checkpoint`` is also exported by :mod:`monai_cbis.data`.
The names whose homes import PyTorch (sampling, handlers) are loaded on first use, so importing this module stays
as light as before. Nothing is defined here.
"""

from __future__ import annotations

from .bundle_root import infer_bundle_root
from .data.demo import DEMO, cache_root, demo_data_dir, resolve_dataset_dir
from .data.inference_inputs import (
    folder_items,
    inference_items,
    inference_root,
    lesion_inference_items,
    lesion_inference_root,
)
from .data.items import lesion_items, pathology_classes, section_items

#: Names whose homes import PyTorch: loaded on first attribute access.
_LAZY = {
    "CLASS_BALANCE": ".data.sampling",
    "loss_class_weights": ".data.sampling",
    "train_sampler": ".data.sampling",
    "latest_checkpoint": ".handlers",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEMO",
    "cache_root",
    "demo_data_dir",
    "folder_items",
    "inference_items",
    "inference_root",
    "infer_bundle_root",
    "lesion_inference_items",
    "lesion_inference_root",
    "lesion_items",
    "pathology_classes",
    "resolve_dataset_dir",
    "section_items",
    *_LAZY,
]
