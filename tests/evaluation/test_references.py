"""Published references: their shape, metrics.json first then the bundle spec, handlers' paper_reference argument."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from ignite.engine import Engine

from monai_cbis.evaluation import (
    ClassificationReportHandler,
    SegmentationReportHandler,
    check_paper_reference,
    paper_reference,
    published_references,
)
from monai_cbis.evaluation import references as references_module
from monai_cbis.evaluation.references import is_paper_reference, resolve_paper_reference, spec_reference
from monai_cbis.zoo.families import get_family
from monai_cbis.zoo.specs import SPECS

REF = {
    "paper": "B",
    "metric": "lesion Dice / IoU",
    "setting": "512 x 512 ROI crops",
    "figures": {"lesion_dice": 0.5, "lesion_iou": 0.25},
    "figures_from_scratch": {},
    "note": "Published numbers, not results of this run.",
}


def test_unknown_model_and_kind():
    assert paper_reference("my_cnn", "classification") is None
    assert paper_reference("unet_effb3", "classification") is None  # the kind decides the table
    assert paper_reference("unet_effb3", "detection") is None  # a segmenter's spec has no detection figure
    with pytest.raises(ValueError, match=r"Unsupported kind: 'tracking', available options are"):
        paper_reference("unet_effb3", "tracking")


def test_paper_references_come_from_the_specs():
    assert paper_reference("unet_effb3", "segmentation")["figures"]["mean_dice_incl_background"] == 0.968
    assert paper_reference("deeplabv3plus_r50", "segmentation")["figures"]["lesion_iou"] == 0.7087
    for name, spec in SPECS.items():
        kind = get_family(spec.family).kind  # the report kind (a patch-trained segmenter's is "segmentation")
        assert paper_reference(name, kind) == spec.published
        assert published_references(kind)[name] == spec.published
    assert paper_reference("mobilenetv2_classification", "classification")["figures_from_scratch"]["accuracy"] == 0.5105
    assert paper_reference("VGG16", "classification")["figures"]["accuracy"] == 0.7739  # <arch>: <arch>_classification
    assert paper_reference("vit_b16", "classification")["figures_from_scratch"] == {}  # ViT: pretrained only


def test_metrics_json_first_then_the_spec():
    # a reference of the right shape in metrics.json wins, for a known model as for an unknown one
    assert paper_reference("unet_roi", "segmentation", {"paper_reference": REF}) == REF
    assert paper_reference("my_segmenter", "segmentation", {"paper_reference": REF}) == REF
    # older metrics.json files hold other dicts: the spec of the model's name, or None
    old = {"paper_reference": {"paper_B_unet_lesion_dice": 0.8402, "note": "..."}}
    assert paper_reference("unet_roi", "segmentation", old) == SPECS["unet_roi"].published
    assert paper_reference("my_segmenter", "segmentation", old) is None
    assert paper_reference("unet_roi", "segmentation", {}) == SPECS["unet_roi"].published


def test_specs_without_published_figures_give_none(monkeypatch):
    class Bare:  # a spec from before the figures moved there (no `published`)
        name, family = "unet_roi", "segmentation"

    monkeypatch.setattr(references_module, "_specs", lambda: {"unet_roi": Bare()})
    assert spec_reference("unet_roi", "segmentation") is None
    assert paper_reference("unet_roi", "segmentation", {"paper_reference": REF}) == REF
    assert published_references("segmentation") == {}


def test_reference_shape_errors():
    assert check_paper_reference({k: REF[k] for k in ("paper", "metric", "figures")}) == {
        **REF,
        "setting": "",
        "note": "",
    }
    with pytest.raises(ValueError, match=r"lacks 'figures': expected the keys \['paper', 'metric', 'figures'\]"):
        check_paper_reference({"paper": "B", "metric": "m"})
    with pytest.raises(ValueError, match=r"unknown keys \['dice'\], available options are \['paper'"):
        check_paper_reference({**REF, "dice": 0.8})
    with pytest.raises(ValueError, match=r"has 'lesion_dice': '0.8', expected a metrics.json key .* a finite number"):
        check_paper_reference({**REF, "figures": {"lesion_dice": "0.8"}})
    with pytest.raises(ValueError, match="'figures'] is empty"):
        check_paper_reference({**REF, "figures": {}})
    with pytest.raises(ValueError, match=r"paper_reference is \[1\], expected a dict"):
        check_paper_reference([1])
    assert is_paper_reference(REF) and not is_paper_reference(None) and not is_paper_reference({"note": "x"})


def test_resolve_handler_argument():
    assert resolve_paper_reference(REF, None, "segmentation") == REF
    assert resolve_paper_reference(True, "unet_roi", "segmentation") == SPECS["unet_roi"].published
    assert resolve_paper_reference(True, "my_net", "segmentation") is None
    assert resolve_paper_reference(True, None, "segmentation") is None
    assert resolve_paper_reference(False, "unet_roi", "segmentation") is None
    assert resolve_paper_reference(None, "unet_roi", "segmentation") is None
    with pytest.raises(ValueError, match="paper_reference is 'yes', expected a reference dict"):
        resolve_paper_reference("yes", "unet_roi", "segmentation")


def run_engine(handler, batches):
    engine = Engine(lambda e, batch: batch)
    handler.attach(engine)
    engine.run(batches, max_epochs=1)


CLS_REF = {**REF, "metric": "test accuracy", "figures": {"accuracy": 0.7}}
SPEC = object()  # stands for "the bundle spec's published figure"


@pytest.mark.parametrize(
    "seg_value,cls_value,expected_seg,expected_cls",
    [(REF, CLS_REF, REF, CLS_REF), (True, True, SPEC, SPEC), (False, False, None, None), (None, None, None, None)],
    ids=["dict", "True", "False", "None"],
)
def test_handlers_write_the_reference_they_are_given(tmp_path, seg_value, cls_value, expected_seg, expected_cls):
    label = np.zeros((1, 8, 8), np.float32)
    label[0, 2:6, 2:6] = 1
    run_engine(SegmentationReportHandler(str(tmp_path / "s"), num_overlays=0, model_name="unet_roi",
                                         paper_reference=seg_value), [[{"label": label, "pred": label}]])  # fmt: skip
    run_engine(ClassificationReportHandler(str(tmp_path / "c"), model_name="vgg16_classification",
                                           paper_reference=cls_value),
               [[{"label": 1, "pred": np.array([0.3, 0.7])}]])  # fmt: skip
    seg = json.loads((tmp_path / "s" / "metrics.json").read_text())
    cls = json.loads((tmp_path / "c" / "metrics.json").read_text())
    expected_seg = SPECS["unet_roi"].published if expected_seg is SPEC else expected_seg
    expected_cls = SPECS["vgg16_classification"].published if expected_cls is SPEC else expected_cls
    assert seg.get("paper_reference") == expected_seg and cls.get("paper_reference") == expected_cls
    assert ("paper_reference" in seg) == (expected_seg is not None)  # None: the key is left out
    assert ("paper_reference" in cls) == (expected_cls is not None)


def test_handlers_reject_a_reference_of_another_shape(tmp_path):
    with pytest.raises(ValueError, match="lacks 'metric'"):
        SegmentationReportHandler(str(tmp_path / "x"), paper_reference={"paper": "A", "figures": {"x": 1.0}})
    with pytest.raises(ValueError, match="paper_reference is 'yes'"):
        ClassificationReportHandler(str(tmp_path / "y"), paper_reference="yes")


@pytest.mark.parametrize(
    "module,name,kind",
    [
        ("monai_cbis.evaluation", "PAPER_REFERENCE_SEGMENTATION", "segmentation"),
        ("monai_cbis.evaluation.segmentation", "PAPER_REFERENCE_SEGMENTATION", "segmentation"),
        ("monai_cbis.evaluation", "PAPER_REFERENCE_CLASSIFICATION", "classification"),
        ("monai_cbis.evaluation.classification", "PAPER_REFERENCE_CLASSIFICATION", "classification"),
        ("monai_cbis.evaluation.compare", "SEGMENTATION_PAPER_FIGURES", "segmentation"),
    ],
)
def test_former_tables_are_derived_from_the_specs(module, name, kind):
    import importlib

    with pytest.warns(DeprecationWarning, match="derived from the bundle specs"):
        table = getattr(importlib.import_module(module), name)
    assert table == published_references(kind)
    kinds = {n: get_family(s.family).kind for n, s in SPECS.items()}
    assert {n for n, s in SPECS.items() if kinds[n] == kind and s.published is not None} == set(table)


def test_former_from_scratch_table():
    from monai_cbis.evaluation import compare

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        table = compare.PAPER_B_FROM_SCRATCH_ACCURACY
    assert table["vgg16_classification"] == 0.7156 and "vit_b16_classification" not in table
