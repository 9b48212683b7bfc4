"""ClassIndex and ClassIndexd: class labels as 0-d int64 tensors, with errors that show the bad value."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch

from monai_cbis.transforms import ClassIndex, ClassIndexd


def test_class_index_transform():
    assert ClassIndex()(np.int64(2)).dtype == torch.int64 and int(ClassIndex(3)(torch.tensor([2]))) == 2
    for bad, msg in [(1.5, "1.5"), (-1, "out of range"), (None, "None"), (True, "True")]:
        with pytest.raises(ValueError, match=msg):
            ClassIndex()(bad)
    with pytest.raises(ValueError, match=r"label 3 is out of range; expected an int in \[0, 3\)"):
        ClassIndexd("label", num_classes=3)({"label": 3})
    result = doctest.testmod(__import__("monai_cbis.transforms.labels", fromlist=["x"]), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("label", [1, 1.0, np.int64(1), torch.tensor(1), torch.tensor([1]), np.array([1])])
def test_input_types(label):
    out = ClassIndexd("label")({"label": label, "image": "a.dcm"})
    assert out["label"].dtype == torch.int64 and out["label"].shape == () and int(out["label"]) == 1
    assert out["image"] == "a.dcm"


def test_missing_label_is_an_error_by_default():
    """MONAI's convention: ``allow_missing_keys=False`` unless asked (it used to default to True)."""
    with pytest.raises(KeyError, match="label"):
        ClassIndexd("label")({"image": "a.dcm"})
    assert ClassIndexd("label", allow_missing_keys=True)({"image": "a.dcm"}) == {"image": "a.dcm"}


def test_bad_num_classes():
    with pytest.raises(ValueError, match=r"num_classes must be >= 1 .*got 0"):
        ClassIndexd("label", num_classes=0)
