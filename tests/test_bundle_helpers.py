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


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "training", "--config_file", "bundles/unet_effb3/configs/train.json"], "bundles/unet_effb3"),
        (["run", "--config_file=b/x/configs/train.json"], "b/x"),
        (["run", "--config_file", "['bundles/a/configs/train.json','bundles/a/configs/evaluate.json']"], "bundles/a"),
        (["run", "--config_file", "loose/train.json"], "loose"),
    ],
)
def test_bundle_root_comes_from_the_config_file_on_the_command_line(monkeypatch, tmp_path, argv, expected):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["monai.bundle", *argv])
    assert bundle.infer_bundle_root() == str(tmp_path / expected)


def test_bundle_root_defaults_without_a_config_file(monkeypatch, tmp_path):
    monkeypatch.setattr("sys.argv", ["python"])
    assert bundle.infer_bundle_root(str(tmp_path)) == str(tmp_path)


def test_latest_checkpoint_picks_the_highest_epoch_and_says_where_it_looked(tmp_path):
    for n in (2, 10, 9):
        (tmp_path / f"checkpoint_epoch={n}.pt").write_bytes(b"x")
    assert bundle.latest_checkpoint(str(tmp_path)).endswith("checkpoint_epoch=10.pt")  # numeric, not text order
    assert bundle.latest_checkpoint(str(tmp_path), resume=False) == ""
    with pytest.raises(FileNotFoundError, match=r"no checkpoint_epoch=N.pt in .*empty"):
        bundle.latest_checkpoint(str(tmp_path / "empty"))


def test_folder_items_finds_images_recursively_and_rejects_empty_folders(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/1-1.dcm", "b.PNG", "c.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [os.path.relpath(i["image"], tmp_path) for i in bundle.folder_items(str(tmp_path))] == [
        "a/1-1.dcm",
        "b.PNG",
        "c.jpg",
    ]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No DICOM, PNG or JPEG files"):
        bundle.folder_items(str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        bundle.folder_items(str(tmp_path / "missing"))


def test_rank_zero_writers_keeps_gathering_handlers_on_every_rank(monkeypatch):
    from monai.handlers import StatsHandler, ValidationHandler

    from monai_cbis import distributed
    from monai_cbis.evaluation import SegmentationReportHandler

    stats, report = StatsHandler(), SegmentationReportHandler("/tmp/unused", num_overlays=0)
    validation = ValidationHandler(interval=1)
    handlers = [validation, stats, report]
    assert distributed.rank_zero_writers(handlers) == handlers  # no process group: everything kept
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(distributed.dist, "get_rank", lambda: 1)
    assert distributed.rank_zero_writers(handlers) == [validation, report]  # the report gathers from every rank


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    from monai_cbis.data import make_synthetic_cbis

    return make_synthetic_cbis(tmp_path_factory.mktemp("lesions") / "cbis", layout="classic", cases=10, seed=2)


def test_lesion_items_for_roi_segmentation_and_classification(small_demo):
    root = small_demo.root
    seg = bundle.lesion_items(root, "training", target="mask", task="mass")
    assert seg and all(set(i) == {"image", "label"} for i in seg)
    cls = bundle.lesion_items(root, "test", target="pathology", task="both")
    truth = {r.mask: r.pathology for r in small_demo.rows}
    for item in cls:
        assert set(item) == {"image", "mask", "label"}
        assert item["label"] == int(truth[item["mask"]] == "MALIGNANT")  # BENIGN_WITHOUT_CALLBACK is benign
    three = bundle.lesion_items(root, "test", target="pathology", task="both", num_classes=3)
    expected = {"BENIGN_WITHOUT_CALLBACK": 0, "BENIGN": 1, "MALIGNANT": 2}
    assert [i["label"] for i in three] == [expected[truth[i["mask"]]] for i in three]
    with pytest.raises(ValueError, match=r"Unsupported target: 'crop', available options are \['mask', 'pathology'\]"):
        bundle.lesion_items(root, "test", target="crop")
    with pytest.raises(ValueError, match=r"Unsupported num_classes: 4"):
        bundle.lesion_items(root, "test", target="pathology", num_classes=4)
    assert bundle.pathology_classes(2) == ("benign", "malignant")


def test_lesion_inference_items_from_a_download_a_datalist_or_a_folder(small_demo, tmp_path):
    import json

    from_download = bundle.lesion_inference_items(small_demo.root, task="mass")
    assert from_download and all(set(i) == {"image", "mask"} for i in from_download)
    row = small_demo.rows[0]
    listing = tmp_path / "in.json"
    listing.write_text(json.dumps({"testing": [{"image": row.full_image, "mask": row.mask},
                                               {"image": row.full_image, "box": [1, 2, 30, 40]}]}))  # fmt: skip
    items = bundle.lesion_inference_items("", datalist=str(listing))
    assert items == [{"image": row.full_image, "mask": row.mask}, {"image": row.full_image, "box": [1, 2, 30, 40]}]
    assert bundle.lesion_inference_root("", str(listing)) == os.path.commonpath(
        [os.path.dirname(row.full_image), os.path.dirname(row.mask)]
    )
    listing.write_text(json.dumps([{"image": "missing.dcm"}]))
    with pytest.raises(FileNotFoundError, match=r"in.json: item 0: image file .*missing.dcm does not exist"):
        bundle.lesion_inference_items("", datalist=str(listing))
    listing.write_text(json.dumps([{"image": row.full_image, "box": [1, 2]}]))
    with pytest.raises(ValueError, match=r"item 0: box must be \[x0, y0, x1, y1\]"):
        bundle.lesion_inference_items("", datalist=str(listing))
    listing.write_text(json.dumps({"images": []}))
    with pytest.raises(ValueError, match=r"expected a list of items or a dict with one of"):
        bundle.lesion_inference_items("", datalist=str(listing))
    folder = tmp_path / "films"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"")
    assert bundle.lesion_inference_items(str(folder)) == [{"image": str(folder / "a.png")}]  # whole films


def test_class_balance_modes():
    import torch

    items = [{"label": 0}] * 6 + [{"label": 1}] * 2
    assert isinstance(bundle.train_sampler(items, "sampler"), torch.utils.data.WeightedRandomSampler)
    assert bundle.train_sampler(items, "loss_weights") is None and bundle.train_sampler(items, "none") is None
    assert bundle.loss_class_weights(items, "sampler") is None
    weights = bundle.loss_class_weights(items, "loss_weights", num_classes=2)
    assert weights[1] / weights[0] == pytest.approx(3.0)
    with pytest.raises(ValueError, match=r"Unsupported class_balance: 'oversample'"):
        bundle.train_sampler(items, "oversample")
