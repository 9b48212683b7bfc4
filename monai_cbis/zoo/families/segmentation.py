"""The segmentation family: lesion masks, Dice/IoU, lesion-level report, PNG or DICOM SEG outputs, breast gate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import PRED_LABEL, BundleFamily, lesion_rows_config, sliding_window

if TYPE_CHECKING:
    from ..levels import ItemLevel
    from ..specs import BundleSpec

__all__ = ["SEGMENTATION"]


def _segmentation_report_args(level: ItemLevel) -> dict:
    return {"lesions": lesion_rows_config(), "lesion_match_by": level.lesion_match_by}


def _mask_writer(level: ItemLevel) -> list[dict]:
    steps: list[dict] = []
    if level.output_name_key is not None:
        steps.append(
            {"_target_": "monai_cbis.transforms.CopyFilenamed", "keys": "pred", "source_key": level.output_name_key}
        )
    steps.append(
        {
            "_target_": "SaveImaged",
            "keys": "pred",
            "output_dir": "@output_dir",
            "output_ext": ".png",
            "output_postfix": "",
            "output_dtype": "$np.uint8",
            "scale": 255,
            "resample": False,
            "separate_folder": False,
            "data_root_dir": level.output_root,
            "print_log": False,
            "writer": "monai_cbis.atomic_savers.AtomicPILWriter",
            "_disabled_": "$@output_format != 'png'",
        }
    )
    return steps


def _dicom_seg_writer(spec: BundleSpec, level: ItemLevel) -> dict:
    """``output_format dicom_seg``: a binary DICOM SEG per prediction over its source film, named as the PNG."""
    return {
        "_target_": "monai_cbis.outputs.SaveDicomSegd",
        "keys": "pred",
        "source_key": "image",
        "output_dir": "@output_dir",
        "algorithm_name": spec.name,
        "algorithm_version": spec.version,
        "data_root_dir": level.output_root,
        "_disabled_": "$@output_format != 'dicom_seg'",
    }


def _segmentation_inference(spec: BundleSpec, level: ItemLevel) -> list[dict]:
    """Sigmoid, back onto the input film (inverting the preprocessing), threshold, write the mask as PNG (or, with
    ``output_format dicom_seg``, as a DICOM SEG).

    The last two steps are for MONAI Label, which drops ``SaveImaged`` and writes ``pred`` itself: a ``[H, W]``
    label (its ``Restored`` leaves a ``[1, H, W]`` one as a broken ``(W, 1)`` PNG) of 0/1 in uint8 (its writer keeps
    the prediction's dtype unless the request names ``result_dtype``, and ITK writes no float32 PNG).
    """
    from . import breast_gate_step  # the registry's rule (family and level), imported when the configs are written

    gate = breast_gate_step(spec)  # on the network's grid, before the prediction goes back onto the film
    return [
        {"_target_": "Activationsd", "keys": "pred", "sigmoid": True},
        *([gate] if gate is not None else []),
        {
            "_target_": "Invertd",
            "keys": "pred",
            "transform": "@preprocessing",
            "orig_keys": "image",
            "nearest_interp": False,
            "to_tensor": True,
        },
        {"_target_": "AsDiscreted", "keys": "pred", "threshold": 0.5},
        *_mask_writer(level),
        _dicom_seg_writer(spec, level),
        {"_target_": "SqueezeDimd", "keys": "pred", "dim": 0},
        {"_target_": "CastToTyped", "keys": "pred", "dtype": "$np.uint8"},
    ]


def _original_geometry(spec: BundleSpec) -> list[dict]:
    """``eval_geometry original``: the probabilities back onto the original film (inference's inversion), the mask
    thresholded from them as inference does, and the label and lesion index map read again from the item's own mask
    files at the film's size (:mod:`monai_cbis.transforms.film_geometry`)."""
    off = "$@eval_geometry != 'original'"
    return [
        {
            "_target_": "Invertd",
            "keys": "pred_prob",
            "transform": "@validate#preprocessing",
            "orig_keys": "image",
            "nearest_interp": False,
            "to_tensor": True,
            "_disabled_": off,
        },
        {"_target_": "monai_cbis.transforms.ThresholdToKeyd", "keys": "pred_prob", "names": "pred", "_disabled_": off},
        {
            "_target_": "monai_cbis.transforms.FilmMasksd",
            "keys": "label",
            "items": "@validate#section_items",
            "image_key": "image",
            "index_keys": "label_index",
            "_disabled_": off,
        },
    ]


def _segmentation_output(spec: BundleSpec) -> dict:
    return {
        "type": "image",
        "format": "segmentation",
        "num_channels": 1,
        "spatial_shape": [spec.image_size, spec.image_size],
        "dtype": "float32",
        "value_range": [0, 1],
        "is_patch_data": False,
        "channel_def": {"0": "background", "1": "lesion"},
    }


#: Binary lesion masks: Dice (key metric) and IoU incl. background on thresholded sigmoid outputs. The probabilities
#: are kept in ``pred_prob`` before the threshold: the report scores each predicted component with them (lesion
#: level: FROC, mAP, breakdown by lesion). A network trained on crops runs over whole films with windows of its
#: ``image_size`` (``evaluate_films.json``).
SEGMENTATION = BundleFamily(
    name="segmentation",
    metrics={
        "val_mean_dice": {"_target_": "MeanDice", "include_background": True, "output_transform": PRED_LABEL},
        "val_mean_iou": {"_target_": "MeanIoUHandler", "include_background": True, "output_transform": PRED_LABEL},
    },
    validation_postprocessing=(
        {"_target_": "Activationsd", "keys": "pred", "sigmoid": True},
        {"_target_": "CopyItemsd", "keys": "pred", "names": "pred_prob"},
        {"_target_": "AsDiscreted", "keys": "pred", "threshold": 0.5},
    ),
    report_handler={
        "_target_": "monai_cbis.evaluation.SegmentationReportHandler",
        "output_dir": "@output_dir",
        "num_overlays": 8,
    },
    report_level_args=_segmentation_report_args,
    items_target="mask",
    pred_output=_segmentation_output,
    eval_metrics=("lesion_dice", "lesion_iou"),
    inference_postprocessing=_segmentation_inference,
    output_formats=("png", "dicom_seg"),
    extra_packages=("highdicom",),
    breast_gate={
        "_target_": "monai_cbis.transforms.GateByBreastd",
        "keys": ["pred", "pred_prob"],
        "image_key": "image",
        "allow_missing_keys": True,
    },
    original_geometry=_original_geometry,
    film_inferer=sliding_window("@image_size"),
)
