"""Fixtures for the preset tests: a small synthetic CBIS-DDSM collection (classic DICOM layout) and its truth."""

from __future__ import annotations

import numpy as np
import pytest
from scratch import scratch_dir

from monai_cbis.data.synthetic import make_synthetic_cbis


@pytest.fixture(scope="package")
def collection(request, tmp_path_factory):
    return make_synthetic_cbis(scratch_dir(request, tmp_path_factory, "cbis"), layout="classic", cases=8, seed=3)


def _image_items(collection) -> list[dict]:
    items: dict[str, dict] = {}
    for r in collection.rows:
        if not r.mask_wrong_size:
            items.setdefault(r.full_image, {"image": r.full_image, "label": [], "laterality": r.laterality})
            items[r.full_image]["label"].append(r.mask)
    return list(items.values())


@pytest.fixture(scope="package")
def image_items(collection):
    return _image_items(collection)


@pytest.fixture(scope="package")
def tagged_items(request, tmp_path_factory):
    """Image-level items of a collection whose DICOM files carry PixelSpacing (realistic lesions: 0.375 mm pixels
    at the demo's size); the default collection's carry none."""
    root = scratch_dir(request, tmp_path_factory, "cbis_tagged")
    return _image_items(make_synthetic_cbis(root, layout="classic", cases=8, seed=3, realistic_lesions=True))


def _truth(paths) -> np.ndarray:
    """The union of the mask files as a (W, H) bool array."""
    import pydicom

    return np.any([pydicom.dcmread(p).pixel_array > 127 for p in paths], axis=0).T


@pytest.fixture
def mask_union():
    """``mask_union(mask_paths)``: the union of the mask files as a (W, H) bool array."""
    return _truth
