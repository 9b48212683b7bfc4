"""monai_cbis.data.inference_inputs: inference runs on a download, a datalist or a plain folder of films."""

from __future__ import annotations

import json
import os
import shutil

import nibabel as nib
import numpy as np
import pydicom
import pytest
from PIL import Image

from monai_cbis.data import inference_inputs
from monai_cbis.data.skips import SkippedItems


def _png(path, size=(8, 6)):
    Image.fromarray(np.full(size[::-1], 100, np.uint8)).save(path)


def test_folder_items_finds_images_recursively_and_rejects_empty_folders(tmp_path, small_demo):
    (tmp_path / "a").mkdir()
    shutil.copy(small_demo.rows[0].full_image, tmp_path / "a" / "1-1.dcm")
    _png(tmp_path / "b.PNG")
    Image.fromarray(np.full((6, 8), 50, np.uint8)).save(tmp_path / "c.jpg")
    assert [os.path.relpath(i["image"], tmp_path) for i in inference_inputs.folder_items(str(tmp_path))] == [
        "a/1-1.dcm",
        "b.PNG",
        "c.jpg",
    ]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No DICOM, PNG or JPEG image"):
        inference_inputs.folder_items(str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        inference_inputs.folder_items(str(tmp_path / "missing"))


def test_folder_items_name_and_skip_what_is_not_a_2d_image(tmp_path, small_demo):
    good = tmp_path / "good.png"
    _png(good)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "fake.dcm").write_text("not a DICOM file")
    (tmp_path / "empty.png").write_bytes(b"")
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 3), np.int16), np.eye(4)), str(tmp_path / "volume.nii.gz"))
    ds = pydicom.dcmread(small_demo.rows[0].full_image)  # the same film, stored as 3 frames: a 3-D volume
    ds.NumberOfFrames = 3
    ds.PixelData = ds.PixelData * 3
    ds.save_as(str(tmp_path / "volume.dcm"))
    ledger = SkippedItems()
    assert inference_inputs.folder_items(str(tmp_path), ledger) == [{"image": str(good)}]
    reasons = {os.path.basename(e["path"]): e["reason"] for e in ledger.entries}
    assert reasons == {
        "notes.txt": "unsupported_type",
        "volume.nii.gz": "unsupported_type",
        "fake.dcm": "file_unreadable",
        "empty.png": "empty_file",
        "volume.dcm": "file_unreadable",
    }
    three_d = next(e for e in ledger.entries if e["path"].endswith("volume.dcm"))
    assert "holds 3 frames" in three_d["detail"] and three_d["stage"] == "input" and three_d["row"] is None
    good.unlink()
    with pytest.raises(FileNotFoundError, match="it holds 5 other file"):
        inference_inputs.folder_items(str(tmp_path))


def test_lesion_inference_items_from_a_download_a_datalist_or_a_folder(small_demo, tmp_path):
    from_download = inference_inputs.lesion_inference_items(small_demo.root, task="mass")
    assert from_download and all(set(i) == {"image", "mask"} for i in from_download)
    row = small_demo.rows[0]
    listing = tmp_path / "in.json"
    listing.write_text(json.dumps({"testing": [{"image": row.full_image, "mask": row.mask},
                                               {"image": row.full_image, "box": [1, 2, 30, 40]}]}))  # fmt: skip
    items = inference_inputs.lesion_inference_items("", datalist=str(listing))
    assert items == [{"image": row.full_image, "mask": row.mask}, {"image": row.full_image, "box": [1, 2, 30, 40]}]
    assert inference_inputs.lesion_inference_root("", str(listing)) == os.path.commonpath(
        [os.path.dirname(row.full_image), os.path.dirname(row.mask)]
    )
    listing.write_text(json.dumps([{"image": "missing.dcm"}]))
    with pytest.raises(FileNotFoundError, match=r"in.json: item 0: image file .*missing.dcm does not exist"):
        inference_inputs.lesion_inference_items("", datalist=str(listing))
    listing.write_text(json.dumps([{"image": row.full_image, "box": [1, 2]}]))
    with pytest.raises(ValueError, match=r"item 0: box must be \[x0, y0, x1, y1\]"):
        inference_inputs.lesion_inference_items("", datalist=str(listing))
    listing.write_text(json.dumps({"images": []}))
    with pytest.raises(ValueError, match=r"expected a list of items or a dict with one of"):
        inference_inputs.lesion_inference_items("", datalist=str(listing))
    folder = tmp_path / "films"
    folder.mkdir()
    _png(folder / "a.png")
    assert inference_inputs.lesion_inference_items(str(folder)) == [{"image": str(folder / "a.png")}]  # whole films
