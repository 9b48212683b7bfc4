"""The bundles under ``bundles/`` generated from one source, so they stay self-contained without drifting apart.

``specs`` says what differs between bundles (and the published figure each reproduces), ``families`` what differs
between bundle families (one :class:`BundleFamily` object each: metrics, loss, post-processing, report handler,
inference outputs), ``levels`` what an item level means (``image`` / ``abnormality``, the data layer's words),
``training`` / ``inference`` / ``metadata`` write each config file from those, ``versions`` reads the package
versions ``metadata.json`` records, and ``generate`` writes or checks the folders::

    python -m monai_cbis.zoo check     # exit 1 and a list when a bundle is out of date (a test runs this)
    python -m monai_cbis.zoo write     # regenerate after changing a spec, a family or a template

Package versions in ``metadata.json`` come from :mod:`importlib.metadata`. So that the drift check passes on any
machine (CI installs whatever pip resolves), ``check`` and ``write`` ignore their values: a file that differs only
in versions is up to date and keeps them; ``write --refresh_versions`` records the installed ones
(:mod:`monai_cbis.zoo.versions`).

A new bundle is a spec in ``specs``; a new family (a detector, say) is one :class:`BundleFamily` in ``families``.

Example:
    >>> from monai_cbis.zoo import SPECS, render_bundle
    >>> sorted(render_bundle(SPECS["unet_roi"]))[:2]
    ['LICENSE', 'configs/evaluate.json']
    >>> get_family(SPECS["unet_roi"].family).key_metric
    'val_mean_dice'
"""

from __future__ import annotations

from .families import FAMILIES, BundleFamily, get_family
from .generate import STATIC_FILES, check_bundles, render_bundle, write_bundles
from .levels import LEVELS, ItemLevel, get_level
from .specs import CLASSIFIER_ARCHS, SPECS, BundleSpec

__all__ = [
    "BundleFamily",
    "BundleSpec",
    "CLASSIFIER_ARCHS",
    "FAMILIES",
    "ItemLevel",
    "LEVELS",
    "SPECS",
    "STATIC_FILES",
    "check_bundles",
    "get_family",
    "get_level",
    "render_bundle",
    "write_bundles",
]
