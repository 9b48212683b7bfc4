"""Datalists: image level holds exactly each image's usable masks; splits never share a woman."""

from __future__ import annotations

import json
import os
import warnings
from collections import defaultdict

import pytest
from monai.data import load_decathlon_datalist

from monai_cbis.data.datalist import build_datalist, write_datalist
from monai_cbis.data.indexer import index_collection

SECTIONS = ("training", "validation", "test")


def real(p):
    return os.path.realpath(p)


def women(dl, section):
    return {i["patient_id"] for i in dl[section]}


def test_image_level_label_is_exactly_the_usable_masks(collection):
    dl = build_datalist(index_collection(collection.root), level="image", split="official", warn=False)
    expected = defaultdict(set)
    for t in collection.rows:
        if not t.mask_wrong_size:
            expected[real(t.full_image)].add(real(t.mask))
    got = {real(i["image"]): {real(m) for m in i["label"]} for s in SECTIONS for i in dl[s]}
    assert got == dict(expected)
    multi = [i for s in SECTIONS for i in dl[s] if len(i["label"]) > 1]
    assert multi, "the generator writes multi-lesion images"
    assert any({"BENIGN", "MALIGNANT"} <= set(i["pathologies"]) and i["malignant"] == 1 for i in multi)
    # an image whose wrong-size mask was skipped says its label is incomplete
    wrong_images = {real(t.full_image) for t in collection.rows if t.mask_wrong_size}
    for s in SECTIONS:
        for i in dl[s]:
            assert (i["masks_skipped"] > 0) == (real(i["image"]) in wrong_images)


def test_abnormality_level_one_item_per_usable_row(collection):
    dl = build_datalist(index_collection(collection.root), level="abnormality", split="official", warn=False)
    items = [i for s in SECTIONS for i in dl[s]]
    assert len(items) == sum(1 for t in collection.rows if not t.mask_wrong_size)
    keys = {"image", "mask", "crop", "patient_id", "abnormality_type", "abnormality_id", "pathology", "laterality",
            "view", "malignant"}  # fmt: skip
    assert all(keys <= set(i) for i in items)
    assert {i["pathology"] for i in items} <= {"MALIGNANT", "BENIGN", "BENIGN_WITHOUT_CALLBACK"}
    assert all(i["malignant"] == int(i["pathology"] == "MALIGNANT") for i in items)


@pytest.mark.parametrize("level", ["image", "abnormality"])
def test_patient_split_is_leak_free_and_test_is_official_test(collection, level):
    index = index_collection(collection.root)
    dl = build_datalist(index, level=level, split="patient", seed=0, val_frac=0.25)
    tr, va, te = (women(dl, s) for s in SECTIONS)
    assert tr and va and te
    assert not (tr & va) and not (tr & te) and not (va & te)
    assert all(i["official_split"] == "test" for i in dl["test"])
    # women with any official test row (either type) never train, even on their other type
    test_women = {t.patient_id for t in collection.rows if t.split == "test"}
    assert not (tr | va) & test_women
    assert dl["summary"]["women_removed_from_training"] >= 1


def test_official_split_warns_with_the_count_of_leaking_women(collection):
    index = index_collection(collection.root)
    with pytest.warns(UserWarning, match=r"official split puts (\d+) women on both"):
        dl = build_datalist(index, level="image", split="official")
    assert dl["summary"]["women_on_both_sides"] >= 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one type alone is patient-disjoint: no warning
        build_datalist(index_collection(collection.root, task="mass"), level="image", split="official")


def test_seed_changes_validation_only(classic):
    index = index_collection(classic.root)
    a = build_datalist(index, seed=0, val_frac=0.3)
    b = build_datalist(index, seed=0, val_frac=0.3)
    c = build_datalist(index, seed=5, val_frac=0.3)
    assert women(a, "validation") == women(b, "validation")
    assert women(a, "validation") != women(c, "validation")
    assert women(a, "test") == women(c, "test")


def test_written_json_loads_with_monai_absolute_and_relative(classic, tmp_path):
    index = index_collection(classic.root)
    for relative in (False, True):
        path = write_datalist(build_datalist(index, level="image", relative=relative), tmp_path / f"dl{relative}.json")
        with open(path) as f:
            raw = json.load(f)
        assert raw["paths"] == ("relative to root" if relative else "absolute")
        assert {"skipped", "summary"} <= set(raw)
        items = load_decathlon_datalist(path, is_segmentation=True, data_list_key="training", base_dir=classic.root)
        assert items and all(os.path.isfile(i["image"]) and all(os.path.isfile(m) for m in i["label"]) for i in items)
        if relative:
            assert not os.path.isabs(raw["training"][0]["image"])


def test_write_is_atomic(tmp_path):
    path = tmp_path / "dl.json"
    write_datalist({"training": [1]}, path)

    class Boom(dict):
        def __iter__(self):
            raise RuntimeError("killed mid-write")

        def items(self):
            raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_datalist(Boom(training=[2]), path)
    assert json.loads(path.read_text()) == {"training": [1]}
    assert os.listdir(tmp_path) == ["dl.json"]  # no temporary file left behind


def test_bad_level_is_a_clear_error(classic):
    with pytest.raises(ValueError, match=r"Unsupported level: 'lesion'.*\['image', 'abnormality'\]"):
        build_datalist(index_collection(classic.root), level="lesion")
