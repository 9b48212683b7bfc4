"""The synthetic CBIS-DDSM writer: exact real formats, every trap present and truthfully flagged (the classic layout;
the NBIA and Kaggle layouts in ``synthetic/test_layouts.py``).

These tests read the written files with pydicom/OpenCV and the ``csv`` module only (never with the project's
indexer), so they check the writer against CBIS_DDSM_FACTS.md independently of the reader.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter, defaultdict

import cv2
import numpy as np
import pydicom
import pytest
from scratch import scratch_dir

from monai_cbis.data.synthetic import (
    CALC_COLUMNS,
    CSV_NAMES,
    MANIFEST_NAME,
    MASS_COLUMNS,
    MIN_CASES,
    load_synthetic_collection,
    make_synthetic_cbis,
)

UID = r"1\.3\.6\.1\.4\.1\.9590\.100\.1\.2\.[1-9]\d{36,38}"
FOLDER = r"(Mass|Calc)-(Training|Test)_P_\d{5}_(LEFT|RIGHT)_(CC|MLO)"
CSV_PATH = re.compile(rf"^(?P<folder>{FOLDER}(_\d)?)/(?P<study>{UID})/(?P<series>{UID})/(?P<file>00000[01])\.dcm$")
PREFIX = {
    "mass_case_description_train_set.csv": "Mass-Training_",
    "mass_case_description_test_set.csv": "Mass-Test_",
    "calc_case_description_train_set.csv": "Calc-Training_",
    "calc_case_description_test_set.csv": "Calc-Test_",
}


# -- fixtures ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=[MIN_CASES, 40], ids=["min_cases", "default_cases"])
def classic(request, tmp_path_factory):
    return make_synthetic_cbis(
        scratch_dir(request, tmp_path_factory, f"syn_classic_{request.param}"), cases=request.param, seed=0
    )


def read_csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="ascii") as f:
        return list(csv.DictReader(f))


def csv_paths(coll, row_dict: dict[str, str]) -> tuple[str, str, str]:
    """(image, crop column, mask column) of one CSV row resolved under the classic tree."""
    return tuple(
        os.path.join(coll.root, "CBIS-DDSM", row_dict[c].strip())
        for c in ("image file path", "cropped image file path", "ROI mask file path")
    )


def rows_by_csv(coll) -> dict[str, list]:
    out = defaultdict(list)
    for r in coll.rows:
        out[r.csv_name].append(r)
    return out


def files_under(root: str) -> dict[str, bytes]:
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = f.read()
    return out


# -- arguments ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"layout": "tcia"}, ["'tcia'", "classic", "nbia", "kaggle"]),
        ({"cases": MIN_CASES - 1}, [str(MIN_CASES - 1), str(MIN_CASES)]),
        ({"cases": 12.5}, ["12.5"]),
        ({"cases": True}, ["True"]),
        ({"seed": -1}, ["-1", "non-negative"]),
        ({"image_size": (100, 80)}, ["(100, 80)", "256"]),
        ({"image_size": (640,)}, ["(640,)"]),
        ({"full_size": "yes"}, ["'yes'"]),
    ],
)
def test_bad_arguments_raise_clear_errors(tmp_path, kwargs, words):
    with pytest.raises(ValueError) as err:
        make_synthetic_cbis(tmp_path / "out", **kwargs)
    for w in words:
        assert w in str(err.value)
    assert not (tmp_path / "out").exists(), "nothing may be written before the arguments are checked"


def test_foreign_folder_is_refused_and_left_alone(tmp_path):
    (tmp_path / "my_scans").mkdir()
    (tmp_path / "my_scans" / "keep.txt").write_text("real data")
    with pytest.raises(FileExistsError, match="keep.txt"):
        make_synthetic_cbis(tmp_path / "my_scans", cases=MIN_CASES)
    assert sorted(os.listdir(tmp_path / "my_scans")) == ["keep.txt"]


def test_unknown_entry_beside_a_previous_collection_is_refused(tmp_path):
    out = tmp_path / "out"
    make_synthetic_cbis(out, cases=MIN_CASES)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="notes.txt"):
        make_synthetic_cbis(out, cases=MIN_CASES)
    assert (out / "notes.txt").read_text() == "mine"


def test_previous_or_interrupted_collection_is_replaced_not_mixed(tmp_path):
    out = tmp_path / "out"
    make_synthetic_cbis(out, layout="classic", cases=MIN_CASES, seed=1)
    coll = make_synthetic_cbis(out, layout="kaggle", cases=MIN_CASES, seed=2)
    assert sorted(os.listdir(out)) == ["csv", "jpeg", MANIFEST_NAME]
    # an interrupted run: marker and a temporary file, no manifest
    os.remove(coll.manifest_path)
    (out / ".synthetic_in_progress").write_text("")
    (out / ".metadata.csv.x1y2z3.tmp").write_text("half")  # an atomic_write temporary left by the kill
    coll = make_synthetic_cbis(out, layout="nbia", cases=MIN_CASES, seed=3)
    assert sorted(os.listdir(out)) == sorted([*CSV_NAMES, "CBIS-DDSM", "metadata.csv", MANIFEST_NAME])
    assert all(os.path.isfile(r.mask) for r in coll.rows)


def test_image_size_sets_the_base_size_and_each_film_is_jittered(tmp_path, capsys):
    coll = make_synthetic_cbis(tmp_path / "s", cases=MIN_CASES, image_size=(300, 200), progress=True)
    headers = [pydicom.dcmread(r.full_image, stop_before_pixels=True) for r in coll.rows]
    sizes = {(ds.Rows, ds.Columns) for ds in headers}
    assert len(sizes) > 1, "real images all differ in size"
    assert all(282 <= rows <= 318 and 188 <= cols <= 212 for rows, cols in sizes)
    assert "film" in capsys.readouterr().err, "progress=True shows a progress bar"


# -- determinism -------------------------------------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    a = make_synthetic_cbis(tmp_path / "a", cases=MIN_CASES, seed=7)
    b = make_synthetic_cbis(tmp_path / "b", cases=MIN_CASES, seed=7)
    c = make_synthetic_cbis(tmp_path / "c", cases=MIN_CASES, seed=8)
    fa, fb, fc = (files_under(os.path.join(x.root, "CBIS-DDSM")) for x in (a, b, c))
    assert fa == fb, "same arguments must give the same files, byte for byte"
    for name in CSV_NAMES:
        assert open(a.csv_files[name], "rb").read() == open(b.csv_files[name], "rb").read()
        assert open(a.csv_files[name], "rb").read() != open(c.csv_files[name], "rb").read()
    assert set(fa) != set(fc)
    pixels_a = pydicom.dcmread(a.rows[0].full_image).pixel_array
    pixels_c = pydicom.dcmread(c.rows[0].full_image).pixel_array
    assert pixels_a.shape != pixels_c.shape or not np.array_equal(pixels_a, pixels_c)


# -- the case CSVs -----------------------------------------------------------------------------------------------------
def test_csv_bytes_follow_the_real_format(classic):
    assert sorted(classic.csv_files) == sorted(CSV_NAMES)
    for name, path in classic.csv_files.items():
        assert os.path.dirname(path) == classic.root
        raw = open(path, "rb").read()
        n_rows = len(rows_by_csv(classic)[name])
        assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM"
        assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == n_rows + 1, "CRLF line ends"
        assert raw.count(b'\n"') == n_rows and raw.count(b"\n") == 2 * n_rows + 1, "one embedded LF per row"
        columns = MASS_COLUMNS if name.startswith("mass") else CALC_COLUMNS
        assert raw.split(b"\r\n", 1)[0].decode() == ",".join(columns)
        table = list(csv.reader(io.StringIO(raw.decode("ascii"), newline="")))
        quirky = columns.index("ROI mask file path" if name.startswith("mass") else "cropped image file path")
        for cells in table[1:]:
            assert len(cells) == len(columns)
            assert [i for i, c in enumerate(cells) if c.endswith("\n")] == [quirky]


def test_csv_values_cover_the_real_spellings(classic):
    mass = [r for n in CSV_NAMES[:2] for r in read_csv(classic.csv_files[n])]
    calc = [r for n in CSV_NAMES[2:] for r in read_csv(classic.csv_files[n])]
    assert "N/A" in {r["mass shape"] for r in mass} | {r["mass margins"] for r in mass}
    assert any("-" in r["mass shape"] or "-" in r["mass margins"] for r in mass)
    calc_types = {r["calc type"] for r in calc}
    assert {"LUCENT_CENTER", "LUCENT_CENTERED", "PLEOMORPHIC-PLEOMORPHIC"} <= calc_types
    assert "N/A" in calc_types | {r["calc distribution"] for r in calc}
    everything = mass + calc
    assert {r["pathology"] for r in everything} == {"MALIGNANT", "BENIGN", "BENIGN_WITHOUT_CALLBACK"}
    assert {r["abnormality type"] for r in mass} == {"mass"} and {r["abnormality type"] for r in calc} == {
        "calcification"
    }
    assert {int(r["assessment"]) for r in everything} <= set(range(6)) and "0" in {r["assessment"] for r in everything}
    assert {int(r["subtlety"]) for r in everything} <= set(range(6)) and "0" in {r["subtlety"] for r in everything}
    density = [r["breast_density"] for r in mass] + [r["breast density"] for r in calc]
    assert {int(d) for d in density} <= set(range(5)) and "0" in density
    for name in CSV_NAMES:  # every file has both classes
        assert {r["pathology"] == "MALIGNANT" for r in read_csv(classic.csv_files[name])} == {True, False}


def test_csv_rows_point_at_the_files_the_manifest_names(classic):
    truth = rows_by_csv(classic)
    for name in CSV_NAMES:
        table = read_csv(classic.csv_files[name])
        assert len(table) == len(truth[name])
        for cells, t in zip(table, truth[name], strict=True):
            image, crop_col, mask_col = csv_paths(classic, cells)
            assert cells["patient_id"] == t.patient_id and cells["image view"] == t.view
            assert cells["left or right breast"] == t.laterality and int(cells["abnormality id"]) == t.abnormality_id
            assert cells["pathology"] == t.pathology
            assert image == t.full_image
            assert (crop_col, mask_col) == ((t.mask, t.crop) if t.swapped else (t.crop, t.mask))
            for p in (image, crop_col, mask_col):
                assert os.path.isfile(p), p


def test_csv_paths_follow_the_grammar(classic):
    studies, tails = Counter(), defaultdict(list)
    for name in CSV_NAMES:
        for cells in read_csv(classic.csv_files[name]):
            for col in ("image file path", "cropped image file path", "ROI mask file path"):
                m = CSV_PATH.match(cells[col].strip())
                assert m, cells[col]
                assert m["folder"].startswith(PREFIX[name])
                side_view = f"_{cells['patient_id']}_{cells['left or right breast']}_{cells['image view']}"
                suffix = "" if col == "image file path" else f"_{cells['abnormality id']}"
                assert m["folder"].endswith(side_view + suffix)
                assert len(m["study"]) <= 64 and len(m["series"]) <= 64
                if (m["study"], m["series"]) not in tails[m["folder"]]:
                    tails[m["folder"]].append((m["study"], m["series"]))
    for folder, pairs in tails.items():
        for study, _ in pairs:
            studies[study] += 1
        five = [u[-5:] for pair in pairs for u in pair]
        assert len(five) == len(set(five)), f"{folder}: last 5 UID digits collide"
    assert max(studies.values()) == 1, "every series sits in its own study"


def test_roi_series_and_file_numbering(classic):
    for kind, majority in (("mass", "crop"), ("calcification", "mask")):
        rows = [r for r in classic.rows if r.abnormality_type == kind]
        shared = [r for r in rows if os.path.dirname(r.crop) == os.path.dirname(r.mask)]
        separate = [r for r in rows if os.path.dirname(r.crop) != os.path.dirname(r.mask)]
        assert shared and separate, f"{kind}: both shared and separate crop/mask series must occur"
        assert len(shared) > len(separate)
        for r in shared:
            assert sorted([os.path.basename(r.crop), os.path.basename(r.mask)]) == ["000000.dcm", "000001.dcm"]
        for r in separate:
            assert os.path.dirname(os.path.dirname(r.crop)) != os.path.dirname(os.path.dirname(r.mask))
        first = Counter("crop" if os.path.basename(r.crop) == "000000.dcm" else "mask" for r in shared)
        other = "mask" if majority == "crop" else "crop"
        assert first[majority] > first[other] > 0, f"{kind}: {majority} mostly 000000.dcm, but not always"


# -- pixels and headers ----------------------------------------------------------------------------
def test_files_have_the_real_headers_and_pixels(classic):
    for r in classic.rows:
        full, mask, crop = (pydicom.dcmread(p) for p in (r.full_image, r.mask, r.crop))
        parts = os.path.relpath(r.full_image, os.path.join(classic.root, "CBIS-DDSM")).split(os.sep)
        assert full.PatientID == parts[0] and full.StudyInstanceUID == parts[1] and full.SeriesInstanceUID == parts[2]
        assert full.SeriesDescription == "full mammogram images" and full.Modality == "MG"
        assert full.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7" and full.Laterality == r.laterality[0]
        assert full.PhotometricInterpretation == "MONOCHROME2" and full.PixelRepresentation == 0
        assert full.BitsAllocated == 16 and full.BitsStored in (12, 16)
        image = full.pixel_array
        assert image.dtype == np.uint16 and int(image.max()) < 2**full.BitsStored
        m = mask.pixel_array
        assert mask.BitsAllocated == 8 and mask.SeriesDescription == "ROI mask images"
        assert set(np.unique(m).tolist()) == {0, 255}
        assert (m.shape != image.shape) == r.mask_wrong_size
        c = crop.pixel_array
        assert crop.BitsAllocated == 16 and c.dtype == np.uint16 and crop.BitsStored == full.BitsStored
        assert c.size * 4 < image.size, "a crop is much smaller than its full image"
        own_series = os.path.dirname(r.crop) != os.path.dirname(r.mask)
        assert crop.SeriesDescription == ("cropped images" if own_series else "ROI mask images")
        assert mask.PatientID == crop.PatientID == f"{parts[0]}_{r.abnormality_id}"


def test_lesions_lie_in_the_breast_are_brighter_and_are_in_the_crop(classic):
    for r in classic.rows:
        if r.mask_wrong_size:
            continue
        ds = pydicom.dcmread(r.full_image)
        image = ds.pixel_array.astype(np.float64) / (2**ds.BitsStored - 1)
        mask = pydicom.dcmread(r.mask).pixel_array > 0
        assert image[mask].min() > 0.12, "every mask pixel lies in breast tissue (background is about 0.04)"
        ring = cv2.dilate(mask.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool) & ~mask
        assert image[mask].mean() > image[ring].mean(), f"{r.crop}: lesion not brighter than its surroundings"
        crop = pydicom.dcmread(r.crop).pixel_array
        scale = np.float32(1.0 / 65535)
        hits = cv2.matchTemplate(ds.pixel_array * scale, crop * scale, cv2.TM_SQDIFF)
        y, x = np.unravel_index(np.argmin(hits), hits.shape)
        assert np.array_equal(ds.pixel_array[y : y + crop.shape[0], x : x + crop.shape[1]], crop), "cut from the image"
        ys, xs = np.nonzero(mask)
        assert y <= ys.min() and ys.max() < y + crop.shape[0] and x <= xs.min() and xs.max() < x + crop.shape[1]


def test_pathology_is_learnable_from_the_lesion(classic):
    solidity, specks = defaultdict(list), defaultdict(list)
    for r in classic.rows:
        if r.mask_wrong_size:
            continue
        benign = r.pathology != "MALIGNANT"
        if r.abnormality_type == "mass":
            m = (pydicom.dcmread(r.mask).pixel_array > 0).astype(np.uint8)
            contour = max(cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0], key=cv2.contourArea)
            solidity[benign].append(cv2.contourArea(contour) / cv2.contourArea(cv2.convexHull(contour)))
        else:
            ds = pydicom.dcmread(r.crop)
            c = ds.pixel_array.astype(np.float64) / (2**ds.BitsStored - 1)
            bright = (c > np.median(c) + 0.15).astype(np.uint8)
            specks[benign].append(cv2.connectedComponents(bright)[0] - 1)
    assert min(solidity[True]) > max(solidity[False]), "benign masses smooth, malignant irregular"
    assert np.mean(specks[False]) > 1.5 * np.mean(specks[True]), "malignant clusters hold more specks"


# -- the traps, each guaranteed --------------------------------------------------------------------
def test_swapped_rows_really_point_at_each_others_files(classic):
    swapped = [r for r in classic.rows if r.swapped]
    assert {r.abnormality_type for r in swapped} == {"mass", "calcification"}
    assert len(swapped) < len(classic.rows) / 2
    truth = rows_by_csv(classic)
    for name in CSV_NAMES:
        for cells, t in zip(read_csv(classic.csv_files[name]), truth[name], strict=True):
            _, crop_col, mask_col = csv_paths(classic, cells)
            crop_says, mask_says = pydicom.dcmread(crop_col), pydicom.dcmread(mask_col)
            assert (crop_says.BitsAllocated == 8) == t.swapped, "the CSV crop column names the mask iff swapped"
            assert (mask_says.BitsAllocated == 16) == t.swapped


def test_wrong_size_masks_are_present_and_flagged(classic):
    wrong = [r for r in classic.rows if r.mask_wrong_size]
    assert len(wrong) >= 2 and not any(r.swapped for r in wrong)
    kinds = set()
    for r in wrong:
        full = pydicom.dcmread(r.full_image, stop_before_pixels=True)
        mask = pydicom.dcmread(r.mask, stop_before_pixels=True)
        assert (mask.Rows, mask.Columns) != (full.Rows, full.Columns)
        if (mask.Rows, mask.Columns) == (full.Columns, full.Rows):
            kinds.add("transposed")
        else:
            assert abs(mask.Rows - full.Rows) <= 8 and abs(mask.Columns - full.Columns) <= 8
            kinds.add("off")
    assert kinds == {"transposed", "off"}


def test_multi_lesion_images_mix_pathologies(classic):
    by_image = defaultdict(list)
    for r in classic.rows:
        by_image[r.full_image].append(r)
    assert classic.images == len(by_image)
    multi = {k: v for k, v in by_image.items() if len(v) > 1}
    assert multi and max(len(v) for v in multi.values()) <= 3
    for rows in multi.values():
        assert len({r.abnormality_id for r in rows}) == len(rows)
        assert len({os.path.dirname(os.path.dirname(r.mask)) for r in rows}) == len(rows)
    assert any({r.pathology for r in v} >= {"MALIGNANT", "BENIGN"} for v in multi.values())


def test_cross_type_leakage_and_shared_views(classic):
    women = defaultdict(set)
    for r in classic.rows:
        women[r.patient_id].add((r.abnormality_type, r.split))
    with open(classic.manifest_path) as f:
        assert len(women) == json.load(f)["params"]["cases"], "cases counts women"
    assert any({("mass", "train"), ("calcification", "test")} <= s for s in women.values())
    assert any({("calcification", "train"), ("mass", "test")} <= s for s in women.values())
    for kind in ("mass", "calcification"):  # official split patient-disjoint within a type
        assert not any({(kind, "train"), (kind, "test")} <= s for s in women.values())
    views = defaultdict(set)
    for r in classic.rows:
        views[(r.patient_id, r.laterality, r.view)].add((r.abnormality_type, r.full_image))
    shared = [v for v in views.values() if {t for t, _ in v} == {"mass", "calcification"}]
    assert shared and all(len({p for _, p in v}) == 2 for v in shared), "same breast view, different series"
    assert {r.laterality for r in classic.rows} == {"LEFT", "RIGHT"} and {r.view for r in classic.rows} == {"CC", "MLO"}


def test_most_lesions_are_seen_in_both_views(classic):
    lesions = defaultdict(list)
    for r in classic.rows:
        lesions[(r.csv_name, r.patient_id, r.laterality, r.abnormality_id)].append(r)
    both = [v for v in lesions.values() if {r.view for r in v} == {"CC", "MLO"}]
    assert len(both) > len(lesions) / 2 and len(both) < len(lesions)
    for v in both:
        assert len({os.path.dirname(os.path.dirname(os.path.dirname(r.full_image))) for r in v}) == 2


# -- the manifest ----------------------------------------------------------------------------------
def test_manifest_matches_the_returned_collection(classic, tmp_path):
    with open(classic.manifest_path) as f:
        data = json.load(f)
    assert data["rows"][0] == {k: getattr(classic.rows[0], k) for k in data["rows"][0]}
    assert load_synthetic_collection(classic.root) == classic
    assert not [n for n in os.listdir(classic.root) if n.startswith(".") or n.endswith("partial")]
    small = make_synthetic_cbis(tmp_path / "a", cases=MIN_CASES)
    os.rename(small.root, tmp_path / "moved")
    moved = load_synthetic_collection(tmp_path / "moved")
    assert all(os.path.isfile(r.mask) and r.mask.startswith(str(tmp_path / "moved")) for r in moved.rows)
