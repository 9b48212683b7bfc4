"""checks: the wording of the transforms' input errors (transform, key, bad shape first)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_cbis.transforms import TrimBorder
from monai_cbis.transforms.checks import check_single_channel, check_spatial_shapes, keyed_errors


def test_keyed_errors_prefixes_value_errors_only():
    def bad(x):
        raise ValueError(f"bad value {x}")

    with pytest.raises(ValueError, match=r"^Xd: key 'image': bad value 3$"):
        keyed_errors("Xd", "image", bad, 3)
    with pytest.raises(KeyError):
        keyed_errors("Xd", "image", {}.__getitem__, "missing")
    assert keyed_errors("Xd", "image", lambda a, b=0: a + b, 1, b=2) == 3


def test_single_channel():
    check_single_channel(np.zeros((1, 4, 5)), "T")
    for shape in [(3, 4, 5), (4, 5), (1, 4, 5, 6)]:
        with pytest.raises(ValueError, match=rf"T expects a single-channel .* got shape \({shape[0]}, "):
            check_single_channel(np.zeros(shape), "T")


def test_spatial_shapes_name_both_keys_and_compare_pending_shapes():
    d = {"image": np.zeros((1, 20, 20)), "mask": np.zeros((2, 20, 20))}
    check_spatial_shapes("T", d, ["image", "mask"], "image")  # channels may differ
    d["label"] = np.zeros((1, 20, 21))
    with pytest.raises(
        ValueError, match=r"T: mask 'label' has spatial shape \(20, 21\) but image 'image' has \(20, 20"
    ):
        check_spatial_shapes("T", d, ["mask", "label"], "image", "mask", "image ")
    lazy = TrimBorder(0.1, lazy=True)(MetaTensor(torch.zeros(1, 20, 20)))  # pending shape (16, 16)
    with pytest.raises(ValueError, match=r"key 'lazy' has spatial shape \(16, 16\)"):
        check_spatial_shapes("T", {"image": d["image"], "lazy": lazy}, ["lazy"], "image")
