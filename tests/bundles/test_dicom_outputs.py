"""Bundle inference with ``output_format`` ``dicom_seg`` (segmenters) and ``dicom_sr`` (the detector) on a tiny
synthetic collection: each DICOM object references the film it was predicted on and holds exactly what the default
PNG / JSON output of the same run holds; non-DICOM inputs are refused before the model runs.

The weights are set to a known output (as in test_monailabel.py): a segmenter's last layer says "lesion" everywhere
it looks, so unet_roi's mask is its crop pasted back onto the film (a rectangle off the film's centre, not all of it),
and the detector's classification head scores every anchor high with a zero box regression, so its boxes are the
anchors that survive NMS."""

from __future__ import annotations

import json
import os
import shutil

import highdicom as hd
import numpy as np
import pydicom
import pytest
import torch
from bundle_workflow import config_workflow, raised, run
from monai.bundle import ConfigParser
from PIL import Image
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis
from monai_cbis.outputs import NotADicomSourceError, read_detection_sr

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROI = {"image_size": [64, 64], "margin": 16}
# at most 8 boxes a film: highdicom builds an SR at about 0.05-0.1 s a box on this machine
DETECTION = {"long_side": 96, "anchor_sizes": [[8, 8], [16, 16], [32, 32]], "detector#detections_per_img": 8}


def cfg(name: str, file: str) -> str:
    return os.path.join(REPO, "bundles", name, "configs", file)


def infer(name: str, root: str, **overrides) -> None:
    run(config_workflow([cfg(name, "inference.json")], cfg(name, "metadata.json"), "infer", bundle_root=root,
                        **overrides))  # fmt: skip


def _weights(name: str, root, overrides: dict, set_output) -> str:
    """``root/models/model.pt``: the bundle's network with ``set_output`` applied (a known output)."""
    parser = ConfigParser()
    parser.read_config(cfg(name, "inference.json"))
    parser.update(overrides)
    net = parser.get_parsed_content("network_def")
    with torch.no_grad():
        set_output(net)
    (root / "models").mkdir(parents=True)
    torch.save(net.state_dict(), root / "models" / "model.pt")
    return str(root)


def _lesion_everywhere(net) -> None:
    last = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    last.weight.zero_()
    last.bias.fill_(8.0)


def _score_every_anchor(net) -> None:
    net.classification_head.cls_logits.weight.zero_()
    net.classification_head.cls_logits.bias.copy_(torch.tensor([3.0, 1.0]).repeat(3))  # mass 0.95, calc 0.73
    net.regression_head.bbox_reg.weight.zero_()
    net.regression_head.bbox_reg.bias.zero_()


@pytest.fixture(scope="module")
def env(request, tmp_path_factory):
    tmp = scratch_dir(request, tmp_path_factory, "dicom_outputs")
    collection = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=8, seed=11)
    return {"tmp": tmp, "collection": collection, "root": collection.root}


def _files(folder, suffix: str) -> dict[str, str]:
    """``{path below folder without the suffix: full path}`` of every file ending in ``suffix``."""
    out = {}
    for d, _, names in os.walk(folder):
        for n in names:
            if n.endswith(suffix):
                full = os.path.join(d, n)
                out[os.path.relpath(full, folder)[: -len(suffix)]] = full
    return out


def test_unet_roi_writes_one_seg_per_lesion_equal_to_its_png_mask(env, tmp_path):
    root = _weights("unet_roi", env["tmp"] / "unet_roi", ROI, _lesion_everywhere)
    png_dir, seg_dir = tmp_path / "png", tmp_path / "seg"
    infer("unet_roi", root, dataset_dir=env["root"], output_dir=str(png_dir), **ROI)
    infer("unet_roi", root, dataset_dir=env["root"], output_dir=str(seg_dir), output_format="dicom_seg", **ROI)
    pngs, segs = _files(png_dir, ".png"), _files(seg_dir, "_seg.dcm")
    assert not _files(seg_dir, ".png")  # dicom_seg writes SEGs instead of PNGs
    tests = [r for r in env["collection"].rows if r.split == "test" and r.abnormality_type == "mass"]
    tests = [r for r in tests if not r.mask_wrong_size]
    assert len(tests) >= 2 and sorted(segs) == sorted(pngs) and len(segs) == len(tests)  # one per lesion
    by_mask = {os.path.splitext(os.path.relpath(r.mask, env["root"]))[0]: r for r in tests}
    for rel, seg_path in segs.items():
        film = pydicom.dcmread(by_mask[rel].full_image, stop_before_pixels=True)  # the SEG is over the full film
        seg = pydicom.dcmread(seg_path)
        ref = seg.ReferencedSeriesSequence[0]
        assert (seg.StudyInstanceUID, ref.SeriesInstanceUID) == (film.StudyInstanceUID, film.SeriesInstanceUID)
        assert ref.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == film.SOPInstanceUID
        assert (seg.Rows, seg.Columns) == (film.Rows, film.Columns)
        assert seg.SegmentSequence[0].SegmentAlgorithmName == "unet_roi"
        frame = hd.seg.segread(seg_path).get_pixels_by_source_instance(
            source_sop_instance_uids=[film.SOPInstanceUID], segment_numbers=[1]
        )[0, :, :, 0]
        with Image.open(pngs[rel]) as im:
            png = np.asarray(im) > 0
        np.testing.assert_array_equal(frame.astype(bool), png)  # pixel for pixel
        assert 0 < png.sum() < png.size / 2  # the lesion's crop, not the whole film


def test_a_dicom_output_over_a_png_input_is_refused_before_the_model_runs(env, tmp_path):
    films = tmp_path / "films"
    films.mkdir()
    row = env["collection"].rows[0]
    shutil.copy(row.full_image, films / "film.dcm")
    Image.fromarray(np.zeros((40, 30), np.uint8)).save(films / "film.png")
    out = tmp_path / "out"
    with pytest.raises(Exception) as e:  # no weights needed: the check comes first
        infer("unet_effb3", str(tmp_path / "no_bundle"), dataset_dir=str(films), output_dir=str(out),
              output_format="dicom_seg", image_size=[64, 64])  # fmt: skip
    assert raised(e, NotADicomSourceError, r"1 of 2 are not: .*film.png\. Use output_format 'png'")
    assert not out.exists() or not _files(out, ".dcm")


def test_an_unknown_output_format_lists_the_options(env, tmp_path):
    with pytest.raises(Exception) as e:
        infer("unet_effb3", str(tmp_path), dataset_dir=env["root"], output_format="nifti", image_size=[64, 64])
    assert raised(e, ValueError, r"Unsupported output_format: 'nifti', available options are \['png', 'dicom_seg'\]")


def test_detector_writes_an_sr_per_film_with_the_boxes_of_its_json(env, tmp_path):
    root = _weights("retinanet_detection", env["tmp"] / "detector", DETECTION, _score_every_anchor)
    films = tmp_path / "films"
    tests = [r for r in env["collection"].rows if r.split == "test"][:2]
    for i, row in enumerate(tests):
        (films / f"w{i}").mkdir(parents=True)
        shutil.copy(row.full_image, films / f"w{i}" / "1-1.dcm")  # the same name in two folders
    json_dir, sr_dir = tmp_path / "json", tmp_path / "sr"
    infer("retinanet_detection", root, dataset_dir=str(films), output_dir=str(json_dir), **DETECTION)
    infer("retinanet_detection", root, dataset_dir=str(films), output_dir=str(sr_dir), output_format="dicom_sr",
          **DETECTION)  # fmt: skip
    jsons, srs = _files(json_dir, ".json"), _files(sr_dir, "_sr.dcm")
    jsons.pop("skipped", None)
    assert sorted(srs) == sorted(jsons) == ["w0/1-1", "w1/1-1"]
    assert not _files(sr_dir, ".json").keys() - {"skipped"}  # dicom_sr writes SRs instead of JSON
    for rel, sr_path in srs.items():
        film = pydicom.dcmread(films / f"{rel}.dcm", stop_before_pixels=True)
        sr = pydicom.dcmread(sr_path)
        assert sr.StudyInstanceUID == film.StudyInstanceUID
        evidence = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
        assert evidence.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == film.SOPInstanceUID
        with open(jsons[rel]) as f:
            expected = json.load(f)["boxes"]
        found = read_detection_sr(sr_path)
        assert len(found) == len(expected) > 0
        for got, want in zip(found, expected, strict=True):
            assert got["box"] == pytest.approx(want["box"], abs=0.006)  # the JSON rounds to 0.01 px
            assert got["score"] == pytest.approx(want["score"], abs=1e-5)
            assert got["label"] == want["label_name"]
        assert {g["label"] for g in found} <= {"mass", "calcification"}
