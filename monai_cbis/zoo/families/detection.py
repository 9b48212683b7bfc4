"""The detection family: lesion boxes on full films with MONAI's detection engines, COCO AP, FROC report,
JSON + overlay or DICOM SR outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import BundleFamily, lesion_rows_config

if TYPE_CHECKING:
    from ..levels import ItemLevel
    from ..specs import BundleSpec

__all__ = ["DETECTION"]


def _detection_inference(spec: BundleSpec, level: ItemLevel) -> list[dict]:
    """The detections to the top level of the item (as MONAI Label's detection task already has them), then their
    boxes back onto the original film (crop, resize and flip undone); ``DetectionWriter`` writes them (or, with
    ``output_format dicom_sr``, ``SaveDicomSRd``)."""
    return [
        {"_target_": "monai_cbis.transforms.FlattenDictd", "keys": "pred"},
        {"_target_": "monai_cbis.transforms.ImageToOriginalBoxd", "keys": "box", "image_key": "image"},
        {  # output_format dicom_sr: a TID 1500 SR of the boxes over the source film, instead of the JSON + overlay
            "_target_": "monai_cbis.outputs.SaveDicomSRd",
            "keys": "box",
            "output_dir": "@output_dir",
            "algorithm_name": spec.name,
            "algorithm_version": spec.version,
            "class_names": "$monai_cbis.transforms.lesion_class_names(@class_key)",
            "data_root_dir": "$monai_cbis.data.inference_inputs.inference_root(@dataset_dir)",
            "_disabled_": "$@output_format != 'dicom_sr'",
        },
    ]


def _detection_output(spec: BundleSpec) -> dict:
    return {
        "type": "object",
        "format": "dict",
        "dtype": "float32",
        "num_channels": 1,
        "spatial_shape": ["n", "n"],
        "value_range": [-10000, 10000],
        "is_patch_data": False,
        "channel_def": {"0": "mass", "1": "calcification"},
    }


def _detection_size(spec: BundleSpec) -> dict:
    return {"long_side": spec.image_size}


def _detection_components(spec: BundleSpec) -> dict:
    """The detector around ``network_def`` (its anchor levels follow ``returned_layers``), and ``detector_ops``: the
    lung-nodule bundle's list of set-up calls, empty here (``retinanet_detector`` sets the detector up), but MONAI
    Label 0.8.5 parses it whenever a bundle has a ``detector`` and fails without it."""
    return {
        "detector": {
            "_target_": "monai_cbis.networks.retinanet_detector",
            "network": "@network_def",
            "anchor_sizes": "@anchor_sizes",
            "score_thresh": 0.02,
            "nms_thresh": 0.22,
            "detections_per_img": 100,
            "window_size": "@long_side",
        },
        "detector_ops": [],
    }


#: Lesion boxes on full mammograms: COCO AP at IoU 0.1 (key metric) and 0.5 on the detector's boxes; the report is
#: the lesion-level one (FROC, mAP, breakdown). MONAI's detection engines, a list-of-items batch (no collation), and
#: images whose masks give no box left out and counted before the loader.
DETECTION = BundleFamily(
    name="detection",
    metrics={
        "val_map_0.1": {"_target_": "monai_cbis.engines.DetectionAP", "iou": 0.1},
        "val_map_0.5": {"_target_": "monai_cbis.engines.DetectionAP", "iou": 0.5},
    },
    validation_postprocessing=(),
    report_handler={
        "_target_": "monai_cbis.evaluation.DetectionReportHandler",
        "output_dir": "@output_dir",
        "gt_box_key": "label.box",
        "num_overlays": 8,
    },
    report_level_args=lambda level: {"lesions": lesion_rows_config()},
    items_target="mask",
    pred_output=_detection_output,
    eval_metrics=("froc_mean_sensitivity", "sensitivity_at_1fp", "map_at_iou_0.1"),
    inference_postprocessing=_detection_inference,
    loss={"_target_": "monai_cbis.engines.DetectionLoss"},
    inference_handlers=(
        {
            "_target_": "monai_cbis.handlers.DetectionWriter",
            "output_dir": "@output_dir",
            "data_root": "$monai_cbis.data.inference_inputs.inference_root(@dataset_dir)",
            "class_names": "$monai_cbis.transforms.lesion_class_names(@class_key)",
            "_disabled_": "$@output_format != 'json'",
        },
    ),
    output_formats=("json", "dicom_sr"),
    extra_packages=("highdicom",),
    size_params=_detection_size,
    input_shape=lambda spec: ["32*n", "32*n"],
    components=_detection_components,
    trainer_target="monai_cbis.engines.DetectionTrainer",
    evaluator_target="monai_cbis.engines.DetectionEvaluator",
    engine_args={"detector": "@detector"},
    inferer={"_target_": "monai_cbis.engines.DetectorInferer", "detector": "@detector"},
    collate_fn="$monai.data.utils.no_collation",
    items_filter={"_target_": "monai_cbis.transforms.box_items"},
)
