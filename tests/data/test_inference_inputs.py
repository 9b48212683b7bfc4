"""monai_cbis.data.inference_inputs: inference runs on a download, a datalist or a plain folder of films."""

from __future__ import annotations

import json
import os

import pytest

from monai_cbis.data import inference_inputs


def test_folder_items_finds_images_recursively_and_rejects_empty_folders(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/1-1.dcm", "b.PNG", "c.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [os.path.relpath(i["image"], tmp_path) for i in inference_inputs.folder_items(str(tmp_path))] == [
        "a/1-1.dcm",
        "b.PNG",
        "c.jpg",
    ]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No DICOM, PNG or JPEG files"):
        inference_inputs.folder_items(str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        inference_inputs.folder_items(str(tmp_path / "missing"))


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
    (folder / "a.png").write_bytes(b"")
    assert inference_inputs.lesion_inference_items(str(folder)) == [{"image": str(folder / "a.png")}]  # whole films
