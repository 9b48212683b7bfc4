"""The synthetic CBIS-DDSM writer's other layouts: the NBIA download tree with its metadata.csv, the Kaggle JPEG
re-release with its dicom_info.csv, and the same CSVs and truth in every layout.

Read with pydicom/OpenCV and the ``csv`` module only (never with the project's indexer), as in
``tests/data/test_synthetic.py``.
"""

from __future__ import annotations

import csv
import os
import re
from collections import Counter, defaultdict

import cv2
import numpy as np
import pydicom
import pytest
from scratch import scratch_dir

from monai_cbis.data.synthetic import CSV_NAMES, MANIFEST_NAME, make_synthetic_cbis

FOLDER = r"(Mass|Calc)-(Training|Test)_P_\d{5}_(LEFT|RIGHT)_(CC|MLO)"
NBIA_PATH = re.compile(
    rf"^CBIS-DDSM/(?P<folder>{FOLDER}(_\d)?)/\d\d-\d\d-20\d\d-DDSM(-NA)?-(?P<study5>\d{{5}})/"
    r"1\.000000-(?P<desc>full mammogram images|ROI mask images|cropped images)-(?P<series5>\d{5})/1-(?P<n>[12])\.dcm$"
)

KAGGLE_NAME = re.compile(r"^[12]-\d{3}\.jpg$")


@pytest.fixture(scope="module")
def nbia(request, tmp_path_factory):
    return make_synthetic_cbis(scratch_dir(request, tmp_path_factory, "syn_nbia"), layout="nbia", cases=16, seed=0)


@pytest.fixture(scope="module")
def kaggle(request, tmp_path_factory):
    return make_synthetic_cbis(scratch_dir(request, tmp_path_factory, "syn_kaggle"), layout="kaggle", cases=16, seed=0)


def read_csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="ascii") as f:
        return list(csv.DictReader(f))


def truth_by_csv(coll) -> dict[str, list]:
    out = defaultdict(list)
    for r in coll.rows:
        out[r.csv_name].append(r)
    return out


def test_layouts_share_csvs_and_truth(tmp_path, nbia, kaggle):
    classic = make_synthetic_cbis(tmp_path / "c", layout="classic", cases=16, seed=0)
    for name in CSV_NAMES:
        ref = open(classic.csv_files[name], "rb").read()
        assert open(nbia.csv_files[name], "rb").read() == ref
        assert open(kaggle.csv_files[name], "rb").read() == ref
    strip = [(r.csv_name, r.patient_id, r.view, r.abnormality_id, r.swapped, r.mask_wrong_size) for r in classic.rows]
    assert strip == [
        (r.csv_name, r.patient_id, r.view, r.abnormality_id, r.swapped, r.mask_wrong_size) for r in nbia.rows
    ]
    # same pixels in classic and NBIA
    assert np.array_equal(
        pydicom.dcmread(classic.rows[3].crop).pixel_array, pydicom.dcmread(nbia.rows[3].crop).pixel_array
    )


def test_nbia_tree_and_metadata(nbia):
    assert sorted(os.listdir(nbia.root)) == sorted([*CSV_NAMES, "CBIS-DDSM", "metadata.csv", MANIFEST_NAME])
    first_file = Counter()
    for r in nbia.rows:
        for path, want in ((r.full_image, "full mammogram images"), (r.mask, "ROI mask images"), (r.crop, None)):
            m = NBIA_PATH.match(os.path.relpath(path, nbia.root).replace(os.sep, "/"))
            assert m, path
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            assert m["folder"] == ds.PatientID and m["desc"] == (want or ds.SeriesDescription)
            assert m["study5"] == ds.StudyInstanceUID[-5:] and m["series5"] == ds.SeriesInstanceUID[-5:]
            assert int(m["n"]) == ds.InstanceNumber
        if os.path.dirname(r.mask) == os.path.dirname(r.crop):
            first_file["mask" if r.mask.endswith("1-1.dcm") else "crop"] += 1
    assert first_file["mask"] and first_file["crop"], "which of mask/crop is 1-1.dcm varies"
    meta = read_csv(os.path.join(nbia.root, "metadata.csv"))
    on_disk = {d for d, _, names in os.walk(nbia.root) if any(n.endswith(".dcm") for n in names)}
    assert len(meta) == len(on_disk)
    for m in meta:
        folder = os.path.normpath(os.path.join(nbia.root, m["File Location"]))
        assert folder in on_disk and len(os.listdir(folder)) == int(m["Number of Images"])
        ds = pydicom.dcmread(os.path.join(folder, "1-1.dcm"), stop_before_pixels=True)
        assert (m["Series UID"], m["Study UID"], m["Subject ID"]) == (
            ds.SeriesInstanceUID,
            ds.StudyInstanceUID,
            ds.PatientID,
        )
        assert m["Series Description"] == ds.SeriesDescription


def test_kaggle_jpeg_tree_and_dicom_info(kaggle):
    assert sorted(os.listdir(kaggle.root)) == ["csv", "jpeg", MANIFEST_NAME]
    assert sorted(os.listdir(os.path.join(kaggle.root, "csv"))) == sorted([*CSV_NAMES, "dicom_info.csv"])
    jpgs = {
        os.path.relpath(os.path.join(d, n), kaggle.root).replace(os.sep, "/")
        for d, _, names in os.walk(os.path.join(kaggle.root, "jpeg"))
        for n in names
    }
    assert all(p.endswith(".jpg") and KAGGLE_NAME.match(p.rsplit("/", 1)[1]) for p in jpgs)
    info = read_csv(os.path.join(kaggle.root, "csv", "dicom_info.csv"))
    assert len(info) == len(jpgs)
    seen = set()
    for rec in info:
        assert rec["image_path"].startswith("CBIS-DDSM/jpeg/") and rec["file_path"].startswith("CBIS-DDSM/dicom/")
        rel = rec["image_path"][len("CBIS-DDSM/") :]
        assert rel in jpgs and rel not in seen
        seen.add(rel)
        assert rel.split("/")[1] == rec["SeriesInstanceUID"]
        assert not os.path.exists(os.path.join(kaggle.root, rec["file_path"]))
        img = cv2.imread(os.path.join(kaggle.root, rel), cv2.IMREAD_UNCHANGED)
        assert img.dtype == np.uint8 and img.shape == (int(rec["Rows"]), int(rec["Columns"]))
    # case CSV paths map to jpeg folders by their SeriesInstanceUID (third component)
    truth = truth_by_csv(kaggle)
    for name in CSV_NAMES:
        for cells, t in zip(read_csv(kaggle.csv_files[name]), truth[name], strict=True):
            series = cells["image file path"].strip().split("/")[2]
            assert os.path.dirname(t.full_image) == os.path.join(kaggle.root, "jpeg", series)
    mask = cv2.imread(kaggle.rows[0].mask, cv2.IMREAD_UNCHANGED)
    values = np.unique(mask)
    assert 0 in values and values.max() >= 250 and len(values) > 2, "JPEG masks carry compression noise"
    assert np.mean((mask < 10) | (mask > 245)) > 0.99
