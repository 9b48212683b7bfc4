"""readable_items: decode each item's files once before the loader; stop with one line, or skip and record."""

from __future__ import annotations

import numpy as np
import pytest

from monai_cbis.data.files import UnreadableImageError
from monai_cbis.data.skips import SkippedItems
from monai_cbis.transforms import CBISImageReader, LoadMammogramd, cached_dataset, item_files, readable_items


@pytest.fixture
def items(tmp_path, write_dicom):
    """Three items; the second's mask has pixel data shorter than its header says (the header alone is fine)."""
    out = []
    for i in range(3):
        image = write_dicom(tmp_path / f"img{i}.dcm", np.full((12, 8), 100 + i, np.uint16))
        mask = write_dicom(tmp_path / f"mask{i}.dcm", np.zeros((12, 8), np.uint16))
        out.append({"image": image, "label": [mask], "csv_file": "mass_train.csv", "csv_row": i + 2})
    import pydicom

    ds = pydicom.dcmread(out[1]["label"][0])
    ds.PixelData = ds.PixelData[:50]
    ds.save_as(out[1]["label"][0])
    return out


def test_a_file_that_does_not_decode_stops_with_one_line(items):
    with pytest.raises(UnreadableImageError) as e:
        readable_items(items, dataset_dir="/data/CBIS-DDSM")
    message = str(e.value)
    assert message.startswith(f"{items[1]['label'][0]}: cannot decode DICOM pixel data (") and "\n" not in message
    assert "python -m monai_cbis verify /data/CBIS-DDSM" in message and "--skip_unreadable true" in message


def test_skipping_keeps_the_order_and_records_path_row_and_reason(items):
    ledger = SkippedItems()
    kept = readable_items(items, skip_unreadable=True, skipped=ledger, num_workers=2)
    assert kept == [items[0], items[2]] and kept[0] is not items[0]  # copies, in order
    (entry,) = ledger.entries
    assert entry["path"] == items[1]["label"][0] and entry["row"] == 3 and entry["csv_file"] == "mass_train.csv"
    assert entry["reason"] == "pixels_unreadable" and entry["stage"] == "load"


def test_nothing_readable_is_an_error(items):
    with pytest.raises(ValueError, match="None of the 1 items has files that decode"):
        readable_items(items[1:2], skip_unreadable=True)


def test_items_already_in_the_cache_are_not_decoded_again(items, tmp_path, monkeypatch):
    good = [items[0], items[2]]
    transform = [LoadMammogramd(["image", "label"])]
    dataset = cached_dataset(good, transform, tmp_path / "cache")
    [dataset[i] for i in range(len(dataset))]  # the first epoch fills the cache
    reads = []
    original = CBISImageReader.read
    monkeypatch.setattr(CBISImageReader, "read", lambda self, data, **kw: reads.append(data) or original(self, data))
    assert readable_items(items, transform, tmp_path / "cache", skip_unreadable=True) == good
    assert reads == [items[1]["image"], items[1]["label"][0]]  # only the uncached item's files


def test_item_files_are_the_image_paths_an_item_names():
    item = {"image": "a.DCM", "label": ["m1.png", "m2.jpg"], "mask": None, "pathology": "BENIGN", "csv_row": 3}
    assert item_files(item) == ["a.DCM", "m1.png", "m2.jpg"]
