"""The bundles under ``bundles/`` generated from one source, so they stay self-contained without drifting apart.

``specs`` says what differs between bundles, ``templates`` writes each config file for a bundle family, and
``generate`` writes or checks the folders::

    python -m monai_cbis.zoo check     # exit 1 and a list when a bundle is out of date (a test runs this)
    python -m monai_cbis.zoo write     # regenerate after changing a spec or a template

Example:
    >>> from monai_cbis.zoo import SPECS, render_bundle
    >>> sorted(render_bundle(SPECS["unet_roi"]))[:2]
    ['LICENSE', 'configs/evaluate.json']
"""

from __future__ import annotations

from .generate import STATIC_FILES, check_bundles, render_bundle, write_bundles
from .specs import CLASSIFIER_ARCHS, SPECS, BundleSpec

__all__ = ["BundleSpec", "CLASSIFIER_ARCHS", "SPECS", "STATIC_FILES", "check_bundles", "render_bundle", "write_bundles"]
