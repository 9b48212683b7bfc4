"""monai_cbis.bundle: the demo data is generated once, a wrong dataset_dir is an error, sections are items."""

from __future__ import annotations

import os
import threading

import pytest

from monai_cbis import bundle


def test_empty_dataset_dir_means_the_synthetic_demo_written_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(bundle.DEMO, "cases", 10)
    root = bundle.resolve_dataset_dir("", cache_dir=str(tmp_path))
    assert "synthetic demo data at" in capsys.readouterr().out
    assert os.path.isfile(os.path.join(root, "synthetic_manifest.json"))
    stamp = os.path.getmtime(os.path.join(root, "synthetic_manifest.json"))
    assert bundle.resolve_dataset_dir(None, cache_dir=str(tmp_path)) == root
    assert os.path.getmtime(os.path.join(root, "synthetic_manifest.json")) == stamp  # reused, not rewritten


def test_concurrent_first_use_gives_one_complete_collection(tmp_path, monkeypatch):
    monkeypatch.setitem(bundle.DEMO, "cases", 8)
    results, errors = [], []

    def run():
        try:
            results.append(bundle.demo_data_dir(str(tmp_path)))
        except Exception as e:  # pragma: no cover - the assertion below reports it
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(results[0])]  # no temporary folders left


def test_wrong_dataset_dir_is_an_error_not_a_fallback(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist or is not a folder"):
        bundle.resolve_dataset_dir(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    root = bundle.resolve_dataset_dir(tmp_path / "empty")  # exists: indexing it is what fails
    with pytest.raises(FileNotFoundError, match="No CBIS-DDSM case CSVs"):
        bundle.section_items(root, "training")


def test_section_items(tmp_path, monkeypatch):
    monkeypatch.setitem(bundle.DEMO, "cases", 10)
    root = bundle.demo_data_dir(str(tmp_path))
    train = bundle.section_items(root, "training", task="both", level="image")
    test = bundle.section_items(root, "test", task="both", level="image")
    assert train and test and not {i["patient_id"] for i in train} & {i["patient_id"] for i in test}
    assert len(bundle.section_items(root, "training", task="both", max_items=2)) == 2
    with pytest.raises(ValueError, match=r"Unsupported section: 'train'"):
        bundle.section_items(root, "train")
    with pytest.raises(ValueError, match=r"validation section .* is empty"):
        bundle.section_items(root, "validation", val_frac=0.0)


def test_section_items_keys_keeps_only_what_the_pipeline_batches(tmp_path, monkeypatch):
    monkeypatch.setitem(bundle.DEMO, "cases", 8)
    root = bundle.demo_data_dir(str(tmp_path))
    items = bundle.section_items(root, "test", task="both", keys=["image", "label", "laterality"])
    assert items and all(set(i) == {"image", "label", "laterality"} for i in items)
