"""views: numpy views of tensors (bfloat16 included, one helper for transforms and evaluation), lazy spatial shapes,
OpenCV views of the (C, W, H) layout without copies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_cbis.transforms import TrimBorder
from monai_cbis.transforms.views import cv_view, from_cv, spatial_shape, to_numpy, value_range


@pytest.mark.parametrize("make", [np.asarray, torch.as_tensor, lambda a: MetaTensor(torch.as_tensor(a))])
def test_to_numpy_shares_memory(make):
    a = np.arange(12, dtype=np.float32).reshape(3, 4).T  # a transposed buffer, as the reader hands it over
    x = make(a)
    out = to_numpy(x)
    assert isinstance(out, np.ndarray) and out.shape == (4, 3)
    np.testing.assert_array_equal(out, a)
    out[0, 0] = -1.0
    assert float(x[0, 0]) == -1.0  # a view, not a copy


def test_to_numpy_bfloat16_gradients_and_the_evaluation_uses_the_same_helper():
    from monai_cbis.evaluation import _engine

    bf = MetaTensor(torch.tensor([0.5, 1.0], dtype=torch.bfloat16))  # CPU autocast output
    out = to_numpy(bf)
    assert out.dtype == np.float32 and out.tolist() == [0.5, 1.0]
    assert to_numpy(torch.ones(2, requires_grad=True)).tolist() == [1.0, 1.0]
    assert to_numpy(3).shape == () and to_numpy([1, 2]).tolist() == [1, 2]
    assert _engine.to_numpy is to_numpy


def test_spatial_shape_is_the_pending_shape_of_a_lazy_image():
    img = MetaTensor(torch.zeros(1, 40, 20))
    lazy = TrimBorder(0.1, lazy=True)(img)
    assert tuple(lazy.shape) == (1, 40, 20) and spatial_shape(lazy) == (32, 16)
    assert spatial_shape(np.zeros((2, 5, 6))) == (5, 6)


def test_cv_view_transposes_without_copy_and_narrows_dtypes():
    a = np.zeros((3, 4), np.uint16).T
    v, transposed = cv_view(a)
    assert transposed and v.flags["C_CONTIGUOUS"] and np.shares_memory(v, a)
    assert from_cv(v, transposed).shape == a.shape
    v32, _ = cv_view(np.array([[0, 40000]], np.int32))  # MONAI's int32 of a 16-bit film
    assert v32.dtype == np.uint16
    assert cv_view(np.array([[-5, 7]], np.int64))[0].dtype == np.int16
    assert cv_view(np.array([[0, 1]], bool))[0].dtype == np.uint8
    assert cv_view(np.array([[0, 1e9]], np.int64))[0].dtype == np.float32


def test_value_range():
    assert value_range(np.array([[3.5, -1.0]], np.float32)) == (-1.0, 3.5)
    assert value_range(np.array([[2, 9]], np.int64)) == (2.0, 9.0)
    assert value_range(np.zeros((0, 3))) == (0.0, 0.0)
