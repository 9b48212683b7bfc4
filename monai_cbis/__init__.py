"""monai-cbis: CBIS-DDSM mammography for MONAI.

Importing has no side effects. The data layer is in :mod:`monai_cbis.data`, the transforms in
:mod:`monai_cbis.transforms`.

Example:
    >>> import monai_cbis
    >>> ds = monai_cbis.CBISDDSMDataset("/data/CBIS-DDSM", section="training", task="mass")  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from .data import build_datalist, index_collection, verify_collection


def __getattr__(name: str):
    if name == "CBISDDSMDataset":  # imported on first use: it pulls in MONAI and PyTorch
        from .data.dataset import CBISDDSMDataset

        return CBISDDSMDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["__version__", "CBISDDSMDataset", "build_datalist", "index_collection", "verify_collection"]
