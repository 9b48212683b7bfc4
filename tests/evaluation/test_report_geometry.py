"""SegmentationReportHandler's ``geometry``: checked, and the original film's overlay candidates kept small."""

from __future__ import annotations

import numpy as np
import pytest

from monai_cbis.evaluation import SegmentationReportHandler
from monai_cbis.evaluation.handlers import _shrunk_mask


def test_unknown_geometry_lists_the_options(tmp_path):
    with pytest.raises(ValueError, match=r"'film'.*\['working', 'original'\]"):
        SegmentationReportHandler(str(tmp_path), geometry="film")


def test_shrunk_mask_keeps_a_one_pixel_lesion():
    m = np.zeros((5000, 3000), bool)
    m[4999, 2999] = True  # the last pixel, in the padded last block
    small = _shrunk_mask(m, 512)
    assert max(small.shape) <= 512 and small.sum() == 1 and small[-1, -1]
    assert _shrunk_mask(m[:100, :50], 512) is not None and _shrunk_mask(m[:100, :50], 512).shape == (100, 50)
