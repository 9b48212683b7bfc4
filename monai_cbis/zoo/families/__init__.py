"""What differs between the bundle families: one :class:`BundleFamily` object per family in :data:`FAMILIES`,
one module per family (:mod:`.segmentation`, :mod:`.classification`, :mod:`.detection`,
:mod:`.patch_segmentation`; the record in :mod:`.base`).

A family says what a bundle predicts and how it is scored: validation metrics (the first is the key metric), loss,
post-processing, report handler, inference outputs, the training sampler and the network outputs in
``metadata.json``. The templates (:mod:`..training`, :mod:`..inference`, :mod:`..metadata`) read these objects and
never branch on a family's name, so a new family (a detector, say) is one more module here, its object added to
:data:`FAMILIES`.

Example:
    >>> get_family("classification").key_metric
    'val_auc'
    >>> get_family("detection").key_metric
    'val_map_0.1'
    >>> get_family("keypoints")
    Traceback (most recent call last):
    ...
    ValueError: Unsupported bundle family: 'keypoints', available options are ['segmentation', 'classification', \
'detection', 'patch_segmentation'].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import BundleFamily, lesion_rows_config
from .classification import CLASSIFICATION
from .detection import DETECTION
from .patch_segmentation import PATCH_SEGMENTATION
from .segmentation import SEGMENTATION

if TYPE_CHECKING:
    from ..specs import BundleSpec

__all__ = [
    "breast_gate_step",
    "BundleFamily",
    "SEGMENTATION",
    "CLASSIFICATION",
    "DETECTION",
    "PATCH_SEGMENTATION",
    "FAMILIES",
    "get_family",
    "lesion_rows_config",
]

#: family name -> family. A new family is one :class:`BundleFamily` added here.
FAMILIES: dict[str, BundleFamily] = {f.name: f for f in (SEGMENTATION, CLASSIFICATION, DETECTION, PATCH_SEGMENTATION)}


def get_family(name: str) -> BundleFamily:
    """The :class:`BundleFamily` called ``name``.

    Raises:
        ValueError: ``name`` is not in :data:`FAMILIES` (the message lists the options).
    """
    if name not in FAMILIES:
        raise ValueError(f"Unsupported bundle family: {name!r}, available options are {list(FAMILIES)}.")
    return FAMILIES[name]


def breast_gate_step(spec: BundleSpec) -> dict | None:
    """The breast gate of ``spec``'s family (``enabled: @gate_by_breast``) when its level sees whole films, else
    None; where it is not None the configs have a ``gate_by_breast`` parameter (default true)."""
    from ..levels import get_level

    family = get_family(spec.family)
    if family.breast_gate is None or not get_level(spec.level).breast_gate:
        return None
    return {**family.breast_gate, "enabled": "@gate_by_breast"}
