"""monai_cbis.data.skips: the run's ledger of skipped rows and files, and their one-line description."""

from __future__ import annotations

import json

import pytest

from monai_cbis.data.skips import SkippedItems, describe_skip, where

ROW = {"kind": "row", "reason": "mask_wrong_size", "detail": "mask is 10x10", "csv_file": "mass_train.csv", "row": 7,
       "patient_id": "P_00001", "path": ""}  # fmt: skip
FILE = {"kind": "file", "reason": "file_unreadable", "detail": "/d/x.dcm: not a DICOM file (junk)", "path": "/d/x.dcm"}


def test_entries_keep_their_source_fields_and_gain_path_row_and_stage():
    ledger = SkippedItems()
    ledger.add(ROW, stage="index")
    ledger.add(FILE, stage="input")
    ledger.add({"reason": "pixels_unreadable", "path": "/d/y.dcm", "csv_row": 3}, stage="load", section="training")
    row, file, load = ledger.entries
    assert row["path"] == "" and row["row"] == 7 and row["patient_id"] == "P_00001" and row["stage"] == "index"
    assert file["row"] is None and file["stage"] == "input"
    assert load["row"] == 3 and load["detail"] == "" and load["section"] == "training"


def test_the_same_entry_twice_is_recorded_once_and_kept_rows_are_not_skips():
    ledger = SkippedItems()
    ledger.extend([ROW, FILE], stage="index")
    ledger.extend([ROW, FILE], stage="index")  # training and validation read the same index
    ledger.add({**ROW, "reason": "crop_missing"}, stage="index")  # the row is used; only its crop is missing
    assert len(ledger) == 2 and ledger.counts() == {"file_unreadable": 1, "mask_wrong_size": 1}


def test_summary_report_and_atomic_write(tmp_path):
    ledger = SkippedItems()
    assert ledger.summary() == "skipped no row or file"
    ledger.extend([ROW, FILE], stage="index")
    ledger.add({**FILE, "path": "/d/z.dcm"}, stage="input")
    assert ledger.summary() == "skipped 3 rows or files: file_unreadable=2, mask_wrong_size=1"
    path = ledger.write(tmp_path / "out" / "skipped.json")
    report = json.loads(open(path).read())
    assert report["count"] == 3 and report["by_stage"] == {"index": 2, "input": 1}
    assert [e["path"] for e in report["skipped"]] == ["", "/d/x.dcm", "/d/z.dcm"]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporary left


def test_bad_entries_are_refused():
    with pytest.raises(ValueError, match=r"Unsupported stage: 'epoch', available options are \['index'"):
        SkippedItems().add(FILE, stage="epoch")
    with pytest.raises(ValueError, match="needs a 'reason'"):
        SkippedItems().add({"path": "/d/x.dcm"}, stage="load")


def test_describe_names_the_file_or_the_csv_row_on_one_line():
    assert describe_skip(FILE) == "/d/x.dcm: file_unreadable (not a DICOM file (junk))"
    assert describe_skip(ROW) == "mass_train.csv row 7: mask_wrong_size (mask is 10x10)"
    assert describe_skip({"reason": "x", "detail": "two\nlines", "path": "p"}) == "p: x (two lines)"
    assert where({"series": "Mass-Training_P_1", "reason": "no_usable_mask"}) == "Mass-Training_P_1"
