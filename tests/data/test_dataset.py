"""CBISDDSMDataset: MedNIST-style sections, seeds and errors."""

from __future__ import annotations

import pytest
from monai.data import DataLoader
from monai.transforms import Randomizable

from monai_cbis.data import CBISDDSMDataset


def test_sections_are_disjoint_by_woman_and_reuse_the_index(classic):
    train = CBISDDSMDataset(classic.root, section="training", task="both", progress=False)
    val = CBISDDSMDataset(classic.root, section="validation", index=train.index, progress=False)
    test = CBISDDSMDataset(classic.root, section="test", index=train.index, progress=False)
    assert isinstance(train, Randomizable)
    w = [{d["patient_id"] for d in ds.data} for ds in (train, val, test)]
    assert all(w) and not (w[0] & w[1]) and not (w[0] & w[2]) and not (w[1] & w[2])
    assert len(train) == train.summary["sections"]["training"]
    assert train.skipped and all("reason" in s for s in train.skipped)
    assert train.get_num_classes() == 2


def test_seed_is_reproducible_and_changes_validation(classic):
    a = CBISDDSMDataset(classic.root, section="validation", seed=1, val_frac=0.3, progress=False)
    b = CBISDDSMDataset(classic.root, section="validation", seed=1, val_frac=0.3, index=a.index, progress=False)
    c = CBISDDSMDataset(classic.root, section="validation", seed=2, val_frac=0.3, index=a.index, progress=False)
    assert [d["image"] for d in a.data] == [d["image"] for d in b.data]
    assert {d["patient_id"] for d in a.data} != {d["patient_id"] for d in c.data}


def test_abnormality_level_with_a_transform_and_dataloader(classic):
    def add_flag(d):
        return {**d, "seen": 1}

    ds = CBISDDSMDataset(classic.root, section="training", task="mass", level="abnormality", transform=add_flag,
                         progress=False)  # fmt: skip
    assert ds[0]["seen"] == 1 and ds[0]["abnormality_type"] == "mass"
    batch = next(iter(DataLoader(ds, batch_size=2, num_workers=0)))
    assert len(batch["image"]) == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"section": "train"},
            r"Unsupported section: 'train', available options are \['training', 'validation', 'test'\]",
        ),
        ({"section": "test", "task": "masses"}, r"Unsupported task: 'masses'"),
        ({"section": "test", "level": "pixel"}, r"Unsupported level: 'pixel'"),
        ({"section": "test", "split": "random"}, r"Unsupported split: 'random'"),
    ],
)
def test_bad_arguments_list_the_options(classic, kwargs, message):
    with pytest.raises(ValueError, match=message):
        CBISDDSMDataset(classic.root, progress=False, **kwargs)


def test_index_for_another_task_is_refused(classic):
    ds = CBISDDSMDataset(classic.root, section="test", task="mass", progress=False)
    with pytest.raises(ValueError, match="index was built for task 'mass'"):
        CBISDDSMDataset(classic.root, section="test", task="both", index=ds.index, progress=False)


def test_missing_root_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="Cannot find dataset directory"):
        CBISDDSMDataset(tmp_path / "nope", section="training", progress=False)


def test_keys_select_what_a_dataloader_can_batch(classic):
    ds = CBISDDSMDataset(classic.root, section="training", keys=["image", "laterality"], progress=False)
    assert all(set(d) == {"image", "laterality"} for d in ds.data)
    batch = next(iter(DataLoader(ds, batch_size=4, num_workers=0)))  # the list metadata would fail to collate
    assert len(batch["image"]) == 4
    with pytest.raises(RuntimeError, match="equal size"):  # what `keys` avoids (the label lists, before loading)
        next(iter(DataLoader(CBISDDSMDataset(classic.root, section="training", index=ds.index, progress=False),
                             batch_size=4, num_workers=0)))  # fmt: skip
