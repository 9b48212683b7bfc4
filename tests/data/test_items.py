"""monai_cbis.data.items: a section's items for the bundles (and the dataset), lesion items and their classes."""

from __future__ import annotations

import doctest

import pytest

from monai_cbis.data import CBISDDSMDataset, demo, items


def test_section_items(tmp_path, monkeypatch):
    monkeypatch.setitem(demo.DEMO, "cases", 10)
    root = demo.demo_data_dir(str(tmp_path))
    train = items.section_items(root, "training", task="both", level="image")
    test = items.section_items(root, "test", task="both", level="image")
    assert train and test and not {i["patient_id"] for i in train} & {i["patient_id"] for i in test}
    assert len(items.section_items(root, "training", task="both", max_items=2)) == 2
    with pytest.raises(ValueError, match=r"Unsupported section: 'train'"):
        items.section_items(root, "train")
    with pytest.raises(ValueError, match=r"validation section .* is empty"):
        items.section_items(root, "validation", val_frac=0.0)


def test_section_items_keys_keeps_only_what_the_pipeline_batches(tmp_path, monkeypatch):
    monkeypatch.setitem(demo.DEMO, "cases", 8)
    root = demo.demo_data_dir(str(tmp_path))
    found = items.section_items(root, "test", task="both", keys=["image", "label", "laterality"])
    # plus the case dict, which the evaluation reports name their rows by
    assert found and all(set(i) == {"image", "label", "laterality", "case"} for i in found)
    for i in found:
        assert i["case"]["name"] in i["image"] and i["case"]["laterality"] == i["laterality"]
        assert all(isinstance(v, str) for v in i["case"].values())


@pytest.mark.parametrize("level", ["image", "abnormality"])
@pytest.mark.parametrize("section", ["training", "validation", "test"])
def test_the_dataset_and_section_items_give_the_same_items(classic, section, level):
    """One rule: the bundles' items and CBISDDSMDataset's items are the same set (the dataset shuffles them)."""
    keys = ["image", "patient_id", "malignant"] if level == "image" else ["image", "mask", "pathology"]
    ds = CBISDDSMDataset(classic.root, section=section, task="mass", level=level, seed=3, keys=keys, progress=False)
    for_bundles = items.section_items(classic.root, section, task="mass", level=level, seed=3, keys=keys)

    def rows(found):
        return sorted(tuple(i[k] for k in keys) for i in found)

    assert ds.data and rows(ds.data) == rows(for_bundles)


def test_an_empty_section_is_an_empty_dataset_but_an_error_for_a_bundle(classic):
    ds = CBISDDSMDataset(classic.root, section="validation", task="mass", val_frac=0.0, progress=False)
    assert len(ds) == 0 and ds.summary["sections"]["validation"] == 0
    with pytest.raises(ValueError, match=r"section sizes: \{'training': \d+, 'validation': 0, 'test': \d+\}"):
        items.datalist_section(ds.datalist, "validation")
    with pytest.raises(ValueError, match=r"Unsupported section: 'val', available options are"):
        items.datalist_section(ds.datalist, "val", allow_empty=True)


def test_lesion_items_for_roi_segmentation_and_classification(small_demo):
    root = small_demo.root
    seg = items.lesion_items(root, "training", target="mask", task="mass")
    assert seg and all(set(i) == {"image", "label", "case"} for i in seg)
    cls = items.lesion_items(root, "test", target="pathology", task="both")
    truth = {r.mask: r.pathology for r in small_demo.rows}
    by_mask = {r.mask: r for r in small_demo.rows}
    for item in cls:
        assert set(item) == {"image", "mask", "label", "case"}
        row = by_mask[item["mask"]]
        assert item["case"]["name"].endswith(f"_{row.abnormality_id}") and item["case"]["pathology"] == row.pathology
        assert item["label"] == int(truth[item["mask"]] == "MALIGNANT")  # BENIGN_WITHOUT_CALLBACK is benign
    three = items.lesion_items(root, "test", target="pathology", task="both", num_classes=3)
    expected = {"BENIGN_WITHOUT_CALLBACK": 0, "BENIGN": 1, "MALIGNANT": 2}
    assert [i["label"] for i in three] == [expected[truth[i["mask"]]] for i in three]
    with pytest.raises(ValueError, match=r"Unsupported target: 'crop', available options are \['mask', 'pathology'\]"):
        items.lesion_items(root, "test", target="crop")
    with pytest.raises(ValueError, match=r"Unsupported num_classes: 4"):
        items.lesion_items(root, "test", target="pathology", num_classes=4)
    assert items.pathology_classes(2) == ("benign", "malignant")


def test_docstring_examples():
    assert doctest.testmod(items).failed == 0
