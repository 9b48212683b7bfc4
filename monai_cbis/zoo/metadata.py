"""The ``configs/metadata.json`` template, in the model zoo's schema.

Texts come from the spec, the network outputs and headline metrics from its family, package versions from
:mod:`.versions` (installed versions; the drift check ignores their values), and ``published_reference`` is the
spec's published figure (:attr:`~monai_cbis.zoo.specs.BundleSpec.published`).
"""

from __future__ import annotations

from .families import get_family
from .specs import BundleSpec
from .versions import package_versions

__all__ = ["metadata"]

_SCHEMA = "https://github.com/Project-MONAI/MONAI-extra-test-data/releases/download/0.8.1/meta_schema_20220324.json"


def _image_input(spec: BundleSpec) -> dict:
    family = get_family(spec.family)
    return {
        "type": "image",
        "format": "magnitude",
        "modality": "MG",
        "num_channels": spec.input_channels,
        "spatial_shape": family.input_shape(spec),
        "dtype": "float32",
        "value_range": list(spec.input_range),
        "is_patch_data": family.input_is_patch,
        "channel_def": {str(c): "image" for c in range(spec.input_channels)},
    }


def metadata(spec: BundleSpec) -> dict:
    """``configs/metadata.json`` in the model zoo's schema."""
    family = get_family(spec.family)
    meta = {
        "schema": _SCHEMA,
        "version": spec.version,
        "changelog": dict(spec.changelog),
        **package_versions((*spec.extra_packages, *family.extra_packages)),
        "supported_apps": {"monai-label": "0.8.5"},
        "name": spec.title,
        "task": spec.task_text,
        "description": spec.description,
        "authors": "monai-cbis developers",
        "copyright": "Copyright (c) monai-cbis developers",
        "data_source": (
            "CBIS-DDSM, The Cancer Imaging Archive, DOI 10.7937/K9/TCIA.2016.7O02S9CY (CC BY 3.0); or the project's "
            "synthetic CBIS-DDSM"
        ),
        "data_type": "dicom",
        "image_classes": spec.image_classes,
        "label_classes": spec.label_classes,
        "pred_classes": spec.pred_classes,
        "eval_metrics": {k: "see docs/README.md Performance" for k in family.eval_metrics},
    }
    if spec.published is not None:
        meta["published_reference"] = spec.published
    meta.update(
        {
            "intended_use": "Research only. Not a medical device; not for clinical use.",
            "references": list(spec.references),
            "network_data_format": {
                "inputs": {"image": _image_input(spec)},
                "outputs": {"pred": family.pred_output(spec)},
            },
        }
    )
    return meta
