"""monai_cbis.data.demo: the demo data is generated once, and a wrong dataset_dir is an error, not a fall-back."""

from __future__ import annotations

import doctest
import os
import threading

import pytest

from monai_cbis.data import demo, section_items


def test_empty_dataset_dir_means_the_synthetic_demo_written_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(demo.DEMO, "cases", 10)
    root = demo.resolve_dataset_dir("", cache_dir=str(tmp_path))
    assert "synthetic demo data at" in capsys.readouterr().out
    assert os.path.isfile(os.path.join(root, "synthetic_manifest.json"))
    stamp = os.path.getmtime(os.path.join(root, "synthetic_manifest.json"))
    assert demo.resolve_dataset_dir(None, cache_dir=str(tmp_path)) == root
    assert os.path.getmtime(os.path.join(root, "synthetic_manifest.json")) == stamp  # reused, not rewritten


def test_concurrent_first_use_gives_one_complete_collection(tmp_path, monkeypatch):
    monkeypatch.setitem(demo.DEMO, "cases", 8)
    results, errors = [], []

    def run():
        try:
            results.append(demo.demo_data_dir(str(tmp_path)))
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
        demo.resolve_dataset_dir(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    root = demo.resolve_dataset_dir(tmp_path / "empty")  # exists: indexing it is what fails
    with pytest.raises(FileNotFoundError, match="No CBIS-DDSM case CSVs"):
        section_items(root, "training")


def test_docstring_examples():
    assert doctest.testmod(demo).failed == 0
