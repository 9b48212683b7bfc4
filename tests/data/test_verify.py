"""verify: decodes every referenced file and names what is wrong."""

from __future__ import annotations

import numpy as np
import pydicom

from monai_cbis.data.verify import verify_collection


def test_clean_collection_reports_only_wrong_size_masks(collection):
    report = verify_collection(collection.root)
    assert set(report["problems_by_reason"]) == {"mask_wrong_size"}
    assert report["ok"] is False and report["files_checked"] > 0


def test_non_binary_and_empty_masks_are_found(classic, mutable_copy):
    root, moved = mutable_copy(classic)
    rows = [t for t in classic.rows if not t.mask_wrong_size and t.mask.endswith(".dcm")]
    noisy, empty = moved(rows[0].mask), moved(rows[1].mask)
    for path, fill in ((noisy, "noise"), (empty, "zero")):
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array
        arr = (np.arange(arr.size).reshape(arr.shape) % 7).astype(arr.dtype) if fill == "noise" else arr * 0
        ds.PixelData = arr.tobytes()
        ds.save_as(path)
    report = verify_collection(root)
    by_path = {(p["reason"], p.get("path")) for p in report["problems"]}
    assert ("mask_not_binary", noisy) in by_path
    assert ("mask_empty", empty) in by_path
