"""Splits: leak-free by woman across both abnormality types and both views, whatever the task."""

from __future__ import annotations

import numpy as np
import pytest

from monai_cbis.data.datalist import build_datalist
from monai_cbis.data.indexer import index_collection
from monai_cbis.data.records import CaseRecord
from monai_cbis.data.splits import SECTIONS, pick_validation_women, plan_split


def rec(pid: str, atype: str, split: str, view: str = "CC") -> CaseRecord:
    prefix = f"{'Mass' if atype == 'mass' else 'Calc'}-{'Training' if split == 'train' else 'Test'}"
    path = f"{prefix}_{pid}_LEFT_{view}/1.2.3.4.5/1.2.3.4.6/000000.dcm"
    return CaseRecord(
        csv_file="x.csv", row=1, patient_id=pid, laterality="LEFT", view=view, abnormality_id=1,
        abnormality_type=atype, pathology="BENIGN", split=split, image_path=path, crop_path=path, mask_path=path,
    )  # fmt: skip


def collection() -> list[CaseRecord]:
    records = []
    for i in range(1, 41):
        pid = f"P_{i:05d}"
        split = "test" if i > 30 else "train"
        atype = "mass" if i % 2 else "calcification"
        records += [rec(pid, atype, split, "CC"), rec(pid, atype, split, "MLO")]
    # cross-type leakage, as in the real files: a mass-train woman in calc-test and a calc-train woman in mass-test
    records += [rec("P_00001", "calcification", "test"), rec("P_00002", "mass", "test")]
    return records


def test_patient_split_removes_women_with_any_official_test_row():
    plan = plan_split(collection(), "patient", val_frac=0.2, rng=np.random.RandomState(0))
    assert plan.removed_women == {"P_00001", "P_00002"} == plan.leaking_women
    assert plan.section_of("P_00001", "train") is None
    assert plan.section_of("P_00001", "test") == "test"
    assert not plan.validation_women & plan.removed_women


def test_official_split_keeps_leaking_women_but_counts_them():
    plan = plan_split(collection(), "official", val_frac=0.2, rng=np.random.RandomState(0))
    assert plan.removed_women == frozenset() and plan.leaking_women == {"P_00001", "P_00002"}
    assert plan.section_of("P_00001", "train") in ("training", "validation")


@pytest.mark.parametrize("split", ["patient", "official"])
def test_no_woman_in_two_sections(split):
    records = collection()
    plan = plan_split(records, split, val_frac=0.25, rng=np.random.RandomState(3))
    sections: dict[str, set] = {}
    for r in records:
        s = plan.section_of(r.patient_id, r.split)
        if s is not None:
            sections.setdefault(s, set()).add(r.patient_id)
    if split == "patient":
        assert not sections["training"] & sections["test"]
    assert not sections["training"] & sections["validation"]
    assert not sections["validation"] & sections["test"]


def test_validation_is_seeded_sized_and_stratified_by_type():
    records = collection()
    a = plan_split(records, "patient", 0.2, np.random.RandomState(7)).validation_women
    b = plan_split(records, "patient", 0.2, np.random.RandomState(7)).validation_women
    c = plan_split(records, "patient", 0.2, np.random.RandomState(8)).validation_women
    assert a == b and a != c
    # 30 train women minus the 2 removed: 14 mass-only and 14 calc-only, drawn per group
    assert len(a) == 2 * round(0.2 * 14)
    assert {r.abnormality_type for r in records if r.patient_id in a} == {"mass", "calcification"}


def _sections(datalist: dict) -> dict[str, set[str]]:
    return {s: {i["patient_id"] for i in datalist[s]} for s in SECTIONS}


@pytest.fixture(scope="module")
def indexes(classic):
    """The shared classic collection indexed for both types and for masses alone (read-only)."""
    return {task: index_collection(classic.root, task=task) for task in ("both", "mass")}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_validation_women_do_not_depend_on_task(indexes, seed):
    """What ``build_datalist`` makes of a real index: a woman is in validation for ``task="mass"`` exactly when
    she is for ``"both"`` (the draw must see every type; drawn from the task's rows it would differ)."""
    both = _sections(build_datalist(indexes["both"], "abnormality", val_frac=0.5, seed=seed))
    index = indexes["mass"]
    mass = _sections(build_datalist(index, "abnormality", val_frac=0.5, seed=seed))
    assert mass["validation"] and mass["training"]
    mass_women = {r.record.patient_id for r in index.records}
    for section in ("training", "validation"):
        assert mass[section] == both[section] & mass_women, section
    mixed = {r.patient_id for r in index.all_records if r.abnormality_type == "calcification"} & mass_women
    assert mixed, "the collection has women with both types: a task-dependent draw would show"


@pytest.mark.parametrize("level", ["image", "abnormality"])
def test_both_views_of_a_breast_stay_in_one_section(indexes, level):
    """The CC and MLO films of one breast (and every film of one woman) land in the same section of the datalist."""
    dl = build_datalist(indexes["both"], level, val_frac=0.5, seed=0)
    section_of: dict[str, set[str]] = {}
    views: dict[tuple, set[str]] = {}
    for s in ("training", "validation"):
        for item in dl[s]:
            section_of.setdefault(item["patient_id"], set()).add(s)
            views.setdefault((s, item["patient_id"], item["laterality"]), set()).add(item["view"])
    assert all(len(s) == 1 for s in section_of.values()), {w: s for w, s in section_of.items() if len(s) > 1}
    # the data could show a split by film: validation holds breasts seen in both views
    assert any(s == "validation" and v == {"CC", "MLO"} for (s, _, _), v in views.items())


def test_val_frac_bounds_and_minimum_one():
    assert len(pick_validation_women(["P_1", "P_2", "P_3"], 0.1, np.random.RandomState(0))) == 1
    assert pick_validation_women(["P_1", "P_2"], 0.0, np.random.RandomState(0)) == frozenset()
    with pytest.raises(ValueError, match=r"val_frac must be in \[0, 1\), got 1.5"):
        pick_validation_women(["P_1"], 1.5, np.random.RandomState(0))
    with pytest.raises(ValueError, match=r"Unsupported split: 'random'.*\['patient', 'official'\]"):
        plan_split([], "random")
