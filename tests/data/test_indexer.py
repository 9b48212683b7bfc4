"""synth -> index round trips in every layout: the indexer finds exactly what the generator wrote."""

from __future__ import annotations

import os

import pytest

from monai_cbis.data.indexer import index_collection
from monai_cbis.data.layouts import LayoutError, detect_layout
from monai_cbis.data.records import CaseCSVError


def real(p):
    return os.path.realpath(p) if p else p


def by_row(index):
    return {(os.path.basename(r.record.csv_file), r.record.row): r for r in index.records}


def truth_rows(col):
    """Manifest rows keyed like IndexedRecord: (csv file name, 1-based data row in that file)."""
    out, counter = {}, {}
    for row in col.rows:
        counter[row.csv_name] = counter.get(row.csv_name, 0) + 1
        out[(row.csv_name, counter[row.csv_name])] = row
    return out


def test_layout_is_detected(collection):
    assert detect_layout(collection.root).name == collection.layout


def test_every_usable_row_gets_its_true_files(collection):
    index = index_collection(collection.root)
    found = by_row(index)
    truth = truth_rows(collection)
    usable = {k: t for k, t in truth.items() if not t.mask_wrong_size}
    assert set(found) == set(usable), "the indexer must keep exactly the rows with a right-size mask"
    for key, t in usable.items():
        r = found[key]
        assert real(r.image) == real(t.full_image), key
        assert real(r.mask) == real(t.mask), f"{key}: wrong mask (swapped={t.swapped})"
        assert real(r.crop) == real(t.crop), key
        assert r.record.patient_id == t.patient_id and r.record.abnormality_id == t.abnormality_id
        assert r.record.pathology == t.pathology and r.record.split == t.split
        assert r.mask_size_ok and r.mask_shape == r.image_shape


def test_swapped_rows_exist_and_are_resolved(collection):
    truth = truth_rows(collection)
    swapped = [k for k, t in truth.items() if t.swapped and not t.mask_wrong_size]
    assert swapped, "the generator must write swapped crop/mask rows"
    index = index_collection(collection.root)
    found = by_row(index)
    for k in swapped:
        assert real(found[k].mask) == real(truth[k].mask)
        if collection.layout == "classic":
            assert found[k].csv_paths_swapped is True
    if collection.layout == "classic":
        assert index.summary()["csv_mask_column_named_the_crop"] == len(swapped)


def test_wrong_size_masks_are_reported_and_optionally_kept(collection):
    truth = truth_rows(collection)
    wrong = {k for k, t in truth.items() if t.mask_wrong_size}
    assert wrong, "the generator must write wrong-size masks"
    index = index_collection(collection.root)
    skipped = {(s["csv_file"], s["row"]) for s in index.skipped if s["reason"] == "mask_wrong_size"}
    assert skipped == wrong
    for s in index.skipped:
        if s["reason"] == "mask_wrong_size":
            assert "but the image is" in s["detail"] and s["patient_id"].startswith("P_")
    kept = by_row(index_collection(collection.root, include_wrong_size_masks=True))
    for k in wrong:
        assert kept[k].mask_size_ok is False and real(kept[k].mask) == real(truth[k].mask)
        assert kept[k].mask_shape != kept[k].image_shape


def test_only_expected_skip_reasons_on_a_clean_collection(collection):
    index = index_collection(collection.root)
    assert {s["reason"] for s in index.skipped} == {"mask_wrong_size"}


def test_task_filter(collection):
    index = index_collection(collection.root, task="mass")
    assert index.records and {r.record.abnormality_type for r in index.records} == {"mass"}
    n_mass = sum(1 for t in collection.rows if t.abnormality_type == "mass" and not t.mask_wrong_size)
    assert len(index.records) == n_mass


def test_root_may_be_the_cbis_ddsm_folder_itself(collection):
    inner = os.path.join(collection.root, "CBIS-DDSM")
    if not os.path.isdir(inner):
        pytest.skip(f"{collection.layout} layout has no CBIS-DDSM folder")
    assert len(index_collection(inner).records) == len(index_collection(collection.root).records)


def test_missing_and_damaged_files_are_reported_by_name(classic, mutable_copy):
    root, moved = mutable_copy(classic)
    rows = [t for t in classic.rows if not t.mask_wrong_size]
    # 1) a truncated full image (a broken download)
    victim = moved(rows[0].full_image)
    with open(victim, "r+b") as f:
        f.truncate(os.path.getsize(victim) // 2)
    # 2) a mask replaced by garbage bytes
    garbage = next(t for t in rows if t.full_image != rows[0].full_image)
    with open(moved(garbage.mask), "wb") as f:
        f.write(b"not a dicom at all" * 10)
    # 3) a deleted crop: the row is kept, with crop=None
    third = next(t for t in rows if t.full_image not in (rows[0].full_image, garbage.full_image))
    os.remove(moved(third.crop))

    index = index_collection(root)
    reasons = {}
    for s in index.skipped:
        reasons.setdefault(s["reason"], []).append(s)
    assert any(victim == s["path"] and "truncated" in s["detail"] for s in reasons["file_unreadable"])
    assert any(moved(garbage.mask) == s["path"] for s in reasons["file_unreadable"])
    assert {s["patient_id"] for s in reasons["image_unreadable"]} == {rows[0].patient_id}
    assert any(s["patient_id"] == garbage.patient_id for s in reasons["mask_not_found"])
    kept = [r for r in index.records if real(r.mask) == real(moved(third.mask))]
    assert len(kept) == 1 and kept[0].crop is None
    assert any(s["reason"] == "crop_missing" for s in index.skipped)


def test_deleted_roi_series_is_roi_missing(classic, mutable_copy):
    import shutil

    root, moved = mutable_copy(classic)
    t = next(t for t in classic.rows if not t.mask_wrong_size)
    shutil.rmtree(os.path.dirname(os.path.dirname(os.path.dirname(moved(t.mask)))))
    index = index_collection(root)
    assert any(s["reason"] == "roi_missing" and s["patient_id"] == t.patient_id for s in index.skipped)


def test_bad_roots_fail_clearly(tmp_path, classic, mutable_copy):
    with pytest.raises(FileNotFoundError, match="Cannot find dataset directory"):
        index_collection(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No CBIS-DDSM case CSVs"):
        index_collection(tmp_path / "empty")
    only_csvs = tmp_path / "only_csvs"
    only_csvs.mkdir()
    for path in classic.csv_files.values():
        (only_csvs / os.path.basename(path)).write_bytes(open(path, "rb").read())
    with pytest.raises(LayoutError, match="No CBIS-DDSM images under .*only_csvs"):
        index_collection(only_csvs)
    root, _ = mutable_copy(classic)
    csv_path = os.path.join(root, os.path.basename(classic.csv_files["mass_case_description_train_set.csv"]))
    with open(csv_path, "w") as f:
        f.write("patient_id,pathology\r\nP_00001,BENIGN\r\n")
    with pytest.raises(CaseCSVError, match="mass_case_description_train_set.csv: missing column"):
        index_collection(root)


def test_unknown_task_is_an_error_not_an_empty_index(tmp_path):
    with pytest.raises(ValueError, match=r"'calc'.*\['mass', 'calcification', 'both'\]"):
        index_collection(tmp_path, task="calc")
