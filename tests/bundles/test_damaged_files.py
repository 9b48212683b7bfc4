"""Damaged files in real bundle runs: every training, evaluation and inference run names what it left out (log and
``skipped*.json``); a file that passes the index but does not decode stops the run with one line naming it, or is
left out and listed with ``skip_unreadable=True``; an inference folder's non-images, empty files and 3-D volumes are
named and skipped while the other films are processed.

One tiny generated collection (12 women, 64 x 64 inputs, one epoch) damaged in the test; ``unet_roi`` runs it."""

from __future__ import annotations

import json
import logging
import os
import shutil

import nibabel as nib
import numpy as np
import pydicom
import pytest
from bundle_workflow import config_workflow, raised, run
from scratch import scratch_dir

from monai_cbis.data import lesion_items, make_synthetic_cbis
from monai_cbis.data.files import UnreadableImageError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME = "unet_roi"
QUICK = {"image_size": [64, 64], "margin": 16, "batch_size": 4, "num_workers": 0, "val_frac": 0.4, "epochs": 1}


def workflow(files, workflow_type: str, **overrides):
    configs = [os.path.join(REPO, "bundles", NAME, "configs", f) for f in files]
    meta = os.path.join(REPO, "bundles", NAME, "configs", "metadata.json")
    return config_workflow(configs, meta, workflow_type, **overrides)


def damage_pixels(path: str) -> None:
    """Halve the pixel data but keep the file's length (a private element pads it): the header and the size check
    of the index pass, the decode fails."""
    ds = pydicom.dcmread(path)
    n = len(ds.PixelData)
    ds.PixelData = ds.PixelData[: n // 2]
    ds.add_new(0x00091010, "OB", b"\0" * (n - n // 2 + 2))
    ds.save_as(path)
    assert os.path.getsize(path) >= n


def truncate(path: str) -> None:
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


@pytest.fixture(scope="module")
def data(request, tmp_path_factory):
    """The collection with one truncated film (the index skips it), then one film of the training section and one
    of the test section whose pixels do not decode (the index cannot tell)."""
    tmp = scratch_dir(request, tmp_path_factory, "damaged")
    col = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=12, seed=3)
    spare = {r.full_image for r in col.rows if r.abnormality_type == "mass" and not r.mask_wrong_size}
    truncated = sorted(spare)[0]
    truncate(truncated)  # before anything indexes this collection in this process
    films = {
        s: [i["image"] for i in lesion_items(col.root, s, task="mass", val_frac=0.4)] for s in ("training", "test")
    }
    assert truncated not in films["training"] + films["test"]
    bad_train = next(f for f in films["training"] if films["training"].count(f) == 1)
    bad_test = films["test"][0]
    good = next(f for f in films["test"] if f != bad_test)
    for f in (bad_train, bad_test):
        damage_pixels(f)
    return {"tmp": tmp, "root": col.root, "cache": str(tmp / "cache"), "truncated": truncated,
            "bad_train": bad_train, "bad_test": bad_test, "good": good}  # fmt: skip


@pytest.fixture(scope="module")
def trained(data):
    """unet_roi trained one epoch with skip_unreadable=True; returns its bundle root."""
    root = str(data["tmp"] / NAME)
    run(workflow(["train.json"], "train", bundle_root=root, dataset_dir=data["root"], cache_dir=data["cache"],
                 skip_unreadable=True, **QUICK))  # fmt: skip
    return root


def read(path) -> dict:
    with open(path) as f:
        return json.load(f)


def test_training_stops_on_a_file_that_does_not_decode_with_one_line_naming_it(data):
    with pytest.raises(Exception) as exc_info:
        run(workflow(["train.json"], "train", bundle_root=str(data["tmp"] / "stopped"), dataset_dir=data["root"],
                     cache_dir=data["cache"], **QUICK))  # fmt: skip
    assert raised(exc_info, UnreadableImageError, "^" + data["bad_train"] + ": cannot decode DICOM pixel data")
    error = exc_info.value
    while not isinstance(error, UnreadableImageError):
        error = error.__cause__
    assert "\n" not in str(error)
    assert f"python -m monai_cbis verify {data['root']}" in str(error) and "--skip_unreadable true" in str(error)
    assert not os.path.exists(data["tmp"] / "stopped" / "models")  # stopped before the first epoch


def test_training_and_evaluation_list_what_they_left_out(data, trained, caplog):
    report = read(os.path.join(trained, "eval", "skipped_training.json"))
    by_path = {(e["path"], e["reason"], e["stage"]) for e in report["skipped"]}
    assert (data["truncated"], "image_unreadable", "index") in by_path
    assert (data["bad_train"], "pixels_unreadable", "load") in by_path
    assert not any(e["path"] == data["bad_test"] for e in report["skipped"])  # not in a section training reads
    assert report["count"] == len(report["skipped"]) and report["by_reason"]["pixels_unreadable"] == 1
    assert all({"path", "row", "reason", "detail", "stage"} <= set(e) for e in report["skipped"])
    assert "truncated DICOM" in next(e["detail"] for e in report["skipped"] if e["path"] == data["truncated"])

    caplog.set_level(logging.INFO)
    run(workflow(["train.json", "evaluate.json"], "eval", bundle_root=trained, dataset_dir=data["root"],
                 cache_dir=data["cache"], skip_unreadable=True, **QUICK))  # fmt: skip
    report = read(os.path.join(trained, "eval", "skipped_evaluation.json"))
    load = [e for e in report["skipped"] if e["stage"] == "load"]
    assert [e["path"] for e in load] == [data["bad_test"]]
    assert any(e["path"] == data["truncated"] for e in report["skipped"])
    logged = caplog.text
    assert f"skipped {report['count']} rows or files: " in logged and "image_unreadable=" in logged
    assert "pixels_unreadable=1" in logged and f"skipped {data['bad_test']}: pixels_unreadable" in logged
    assert read(os.path.join(trained, "eval", "metrics.json"))["model"] == NAME


def _folder(data) -> str:
    """A folder of two good films beside a note, an empty file, a 3-D DICOM, a NIfTI volume and a damaged film."""
    folder = data["tmp"] / "films"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    shutil.copy(data["good"], folder / "one.dcm")
    ds = pydicom.dcmread(data["good"])
    ds.PatientID = "other"
    ds.save_as(str(folder / "two.dcm"))
    (folder / "notes.txt").write_text("reader's notes")
    (folder / "empty.dcm").write_bytes(b"")
    ds.NumberOfFrames = 2
    ds.PixelData = ds.PixelData * 2
    ds.save_as(str(folder / "volume.dcm"))
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 3), np.int16), np.eye(4)), str(folder / "volume.nii.gz"))
    shutil.copy(data["bad_test"], folder / "damaged.dcm")
    return str(folder)


def test_inference_over_a_folder_names_and_skips_what_is_not_a_readable_2d_image(data, trained, caplog):
    folder = _folder(data)
    with pytest.raises(Exception) as exc_info:
        run(workflow(["inference.json"], "infer", bundle_root=trained, dataset_dir=folder,
                     output_dir=str(data["tmp"] / "stopped_pred"), image_size=[64, 64], margin=16))  # fmt: skip
    assert raised(exc_info, UnreadableImageError, "^" + os.path.join(folder, "damaged.dcm") + ": cannot decode")

    caplog.set_level(logging.INFO)
    out = data["tmp"] / "pred"
    run(workflow(["inference.json"], "infer", bundle_root=trained, dataset_dir=folder, output_dir=str(out),
                 image_size=[64, 64], margin=16, skip_unreadable=True))  # fmt: skip
    assert sorted(n for n in os.listdir(out) if n.endswith(".png")) == ["one.png", "two.png"]
    report = read(out / "skipped.json")
    reasons = {os.path.basename(e["path"]): (e["reason"], e["stage"]) for e in report["skipped"]}
    assert reasons == {
        "notes.txt": ("unsupported_type", "input"),
        "volume.nii.gz": ("unsupported_type", "input"),
        "empty.dcm": ("empty_file", "input"),
        "volume.dcm": ("file_unreadable", "input"),
        "damaged.dcm": ("pixels_unreadable", "load"),
    }
    assert report["count"] == 5 and report["by_stage"] == {"input": 4, "load": 1}
    assert "skipped 5 rows or files: empty_file=1, file_unreadable=1, pixels_unreadable=1, unsupported_type=2" in (
        caplog.text
    )
    for name in reasons:
        assert f"skipped {os.path.join(folder, name)}: " in caplog.text
