"""What differs between the bundle families: one :class:`BundleFamily` object per family in :data:`FAMILIES`.

A family says what a bundle predicts and how it is scored: validation metrics (the first is the key metric), loss,
post-processing, report handler, inference outputs, the training sampler and the network outputs in
``metadata.json``. The templates (:mod:`.training`, :mod:`.inference`, :mod:`.metadata`) read these objects and
never branch on a family's name, so a new family (a detector, say) is one more object here, added to
:data:`FAMILIES`.

Example:
    >>> get_family("classification").key_metric
    'val_auc'
    >>> get_family("detection").key_metric
    'val_map_0.1'
    >>> get_family("keypoints")
    Traceback (most recent call last):
    ...
    ValueError: Unsupported bundle family: 'keypoints', available options are ['segmentation', 'classification', \
'detection'].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .levels import ItemLevel
    from .specs import BundleSpec

__all__ = [
    "breast_gate_step",
    "BundleFamily",
    "SEGMENTATION",
    "CLASSIFICATION",
    "DETECTION",
    "FAMILIES",
    "get_family",
    "lesion_rows_config",
]

_PRED_LABEL = "$monai.handlers.from_engine(['pred', 'label'])"


def _square_size(spec: BundleSpec) -> dict:
    return {"image_size": [spec.image_size, spec.image_size]}


def _square_shape(spec: BundleSpec) -> list:
    return [spec.image_size, spec.image_size]


def _no_components(spec: BundleSpec) -> dict:
    return {}


@dataclass(frozen=True)
class BundleFamily:
    """One bundle family: the config pieces its bundles share and the other families do not.

    Attributes:
        name: the family's name, what :attr:`BundleSpec.family <monai_cbis.zoo.specs.BundleSpec.family>` holds.
        metrics: validation metric name -> metric handler config; the first is the default ``key_metric``.
        validation_postprocessing: transforms between the network and the metrics (validation and evaluation).
        report_handler: the evaluation report handler (``evaluate.json`` adds ``model_name`` and the published
            reference of the bundle's spec).
        report_level_args: ``level -> dict``, what the report handler adds for an item level (the segmentation
            report's lesion rows and how items tie to them); None adds nothing.
        items_target: what an abnormality-level item is scored against (``lesion_items``' ``target``).
        pred_output: ``spec -> dict``, the ``pred`` entry of ``metadata.json``'s ``network_data_format`` outputs.
        eval_metrics: the report's headline metrics, listed in ``metadata.json``.
        inference_postprocessing: ``(spec, level) -> list``, the transforms after the network in ``inference.json``
            (including any that write outputs).
        items_extra: arguments added to every items config (classification: ``num_classes``).
        loss: the family's loss config; None: every bundle's spec gives its own (``BundleSpec.loss``).
        optimizer_params: the expression for the optimizer's parameters.
        train_sampler: the training sampler config, or None to shuffle. A family sampler must take
            ``distributed=True`` under ``torchrun``; without one, multi-GPU training uses MONAI's
            ``DistributedSampler``.
        inference_handlers: handlers ``inference.json`` adds after the checkpoint loader and stats (output writers).
        size_params: ``spec -> dict``, the working-size parameters of train.json and inference.json (default
            ``image_size: [s, s]``).
        input_shape: ``spec -> list``, ``spatial_shape`` of the input in ``metadata.json``.
        components: ``spec -> dict``, top-level components after ``network`` (the detector around it).
        trainer_target, evaluator_target: the engines' ``_target_``; engine_args: arguments added to the trainer and
            every evaluator (e.g. ``detector``).
        inferer: the inferer config of training, validation and inference.
        collate_fn: the data loaders' ``collate_fn`` (None: PyTorch's default collation).
        items_filter: a screening step after ``readable_items`` in training and validation (called with ``items``,
            ``transform``, ``cache_dir`` and ``skipped``), or None.
        output_formats: the values of ``inference.json``'s ``output_format`` (the first is the default), which
            its post-processing and handlers switch on with ``_disabled_``; a DICOM one (``dicom_seg``,
            ``dicom_sr``) needs DICOM inputs (:func:`monai_cbis.outputs.inputs_for_output_format`). Empty: the
            family writes one kind of output and has no ``output_format``.
        breast_gate: the post-processing step that removes this family's findings outside the breast
            (:class:`~monai_cbis.transforms.GateByBreastd` or :class:`~monai_cbis.transforms.GateBoxesByBreastd`),
            used where the item level sees whole films (``ItemLevel.breast_gate``), switched by ``gate_by_breast``;
            None: the family has no such step (:func:`breast_gate_step`).
        extra_packages: packages the family's configs import besides the shared ones, recorded in
            ``metadata.json`` (highdicom for the DICOM outputs).
    """

    name: str
    metrics: Mapping[str, dict]
    validation_postprocessing: tuple[dict, ...]
    report_handler: dict
    items_target: str
    pred_output: Callable[[BundleSpec], dict]
    eval_metrics: tuple[str, ...]
    inference_postprocessing: Callable[[BundleSpec, ItemLevel], list[dict]]
    items_extra: Mapping[str, object] = field(default_factory=dict)
    loss: dict | None = None
    optimizer_params: str = "$@network.parameters()"
    train_sampler: dict | None = None
    inference_handlers: tuple[dict, ...] = ()
    report_level_args: Callable[[ItemLevel], dict] | None = None
    size_params: Callable[[BundleSpec], dict] = _square_size
    input_shape: Callable[[BundleSpec], list] = _square_shape
    components: Callable[[BundleSpec], dict] = _no_components
    trainer_target: str = "SupervisedTrainer"
    evaluator_target: str = "SupervisedEvaluator"
    engine_args: Mapping[str, object] = field(default_factory=dict)
    inferer: Mapping[str, object] = field(default_factory=lambda: {"_target_": "SimpleInferer"})
    collate_fn: str | None = None
    items_filter: Mapping[str, object] | None = None
    output_formats: tuple[str, ...] = ()
    extra_packages: tuple[str, ...] = ()
    breast_gate: dict | None = None

    def __post_init__(self):
        if not self.metrics:
            raise ValueError(f"Bundle family {self.name!r} needs at least one validation metric (its key metric).")

    @property
    def key_metric(self) -> str:
        """The default ``key_metric`` of train.json (checkpoint, early stopping, learning-rate plateau)."""
        return next(iter(self.metrics))

    @property
    def metric_names(self) -> list[str]:
        """Every validation metric's name, key metric first."""
        return list(self.metrics)

    def loss_config(self, spec: BundleSpec) -> dict:
        """The bundle's loss: its spec's own, else the family's.

        Raises:
            ValueError: neither the spec nor the family gives a loss.
        """
        if spec.loss:
            return dict(spec.loss)
        if self.loss is None:
            raise ValueError(
                f"Bundle {spec.name!r} of family {self.name!r} needs a loss in its spec (BundleSpec.loss)."
            )
        return dict(self.loss)


def lesion_rows_config() -> dict:
    """The evaluated section's abnormality-level rows (one per CSV lesion: woman, type, pathology, density,
    subtlety), which a lesion-level report handler looks each lesion up in (``lesions=``); same index and split as
    the evaluated items."""
    return {
        "_target_": "monai_cbis.data.items.section_items",
        "dataset_dir": "@data_root",
        "section": "@validate#section_items#section",
        "task": "@task",
        "level": "abnormality",
        "split": "@split",
        "seed": "@seed",
        "val_frac": "@val_frac",
    }


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


def breast_gate_step(spec: BundleSpec) -> dict | None:
    """The breast gate of ``spec``'s family (``enabled: @gate_by_breast``) when its level sees whole films, else
    None; where it is not None the configs have a ``gate_by_breast`` parameter (default true)."""
    from .levels import get_level

    family = get_family(spec.family)
    if family.breast_gate is None or not get_level(spec.level).breast_gate:
        return None
    return {**family.breast_gate, "enabled": "@gate_by_breast"}


def _segmentation_inference(spec: BundleSpec, level: ItemLevel) -> list[dict]:
    """Sigmoid, back onto the input film (inverting the preprocessing), threshold, write the mask as PNG (or, with
    ``output_format dicom_seg``, as a DICOM SEG).

    The last two steps are for MONAI Label, which drops ``SaveImaged`` and writes ``pred`` itself: a ``[H, W]``
    label (its ``Restored`` leaves a ``[1, H, W]`` one as a broken ``(W, 1)`` PNG) of 0/1 in uint8 (its writer keeps
    the prediction's dtype unless the request names ``result_dtype``, and ITK writes no float32 PNG).
    """
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
#: level: FROC, mAP, breakdown by lesion).
SEGMENTATION = BundleFamily(
    name="segmentation",
    metrics={
        "val_mean_dice": {"_target_": "MeanDice", "include_background": True, "output_transform": _PRED_LABEL},
        "val_mean_iou": {"_target_": "MeanIoUHandler", "include_background": True, "output_transform": _PRED_LABEL},
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
)


def _classification_inference(spec: BundleSpec, level: ItemLevel) -> list[dict]:
    """Softmax, then drop the image: the class needs none of it, and MONAI Label's BundleInferTask appends a
    Restored that would resize the probabilities to the image's spatial_shape in its metadata."""
    return [
        {"_target_": "Activationsd", "keys": "pred", "softmax": True},
        {"_target_": "DeleteItemsd", "keys": ["image", "image_meta_dict"]},
    ]


def _classification_output(spec: BundleSpec) -> dict:
    return {
        "type": "probabilities",
        "format": "classes",
        "num_channels": 2,
        "spatial_shape": [2],
        "dtype": "float32",
        "value_range": [0, 1],
        "is_patch_data": False,
        "channel_def": {"0": "benign", "1": "malignant"},
    }


#: Benign / malignant: ROC AUC (key metric) and accuracy on softmax outputs; class balance by a weighted sampler
#: or loss weights (``class_balance``); only the trainable layers are optimised (``trainable_layers``).
CLASSIFICATION = BundleFamily(
    name="classification",
    metrics={
        "val_auc": {"_target_": "ROCAUC", "output_transform": _PRED_LABEL},
        "val_accuracy": {
            "_target_": "ignite.metrics.Accuracy",
            "output_transform": "$monai_cbis.handlers.class_scores_and_indices()",
        },
    },
    # probabilities stay in pred (ROC AUC, report); the label becomes one-hot for ROCAUC
    validation_postprocessing=(
        {"_target_": "Activationsd", "keys": "pred", "softmax": True},
        {"_target_": "AsDiscreted", "keys": "label", "to_onehot": "@num_classes"},
    ),
    report_handler={
        "_target_": "monai_cbis.evaluation.ClassificationReportHandler",
        "output_dir": "@output_dir",
        "positive_index": "$@num_classes - 1",
    },
    items_target="pathology",
    pred_output=_classification_output,
    eval_metrics=("accuracy", "roc_auc"),
    inference_postprocessing=_classification_inference,
    items_extra={"num_classes": "@num_classes"},
    loss={
        "_target_": "torch.nn.CrossEntropyLoss",
        "weight": {
            "_target_": "monai_cbis.data.sampling.loss_class_weights",
            "items": "@train#items",
            "class_balance": "@class_balance",
            "num_classes": "@num_classes",
            "device": "@device",
        },
    },
    optimizer_params="$[p for p in @network.parameters() if p.requires_grad]",
    train_sampler={
        "_target_": "monai_cbis.data.sampling.train_sampler",
        "items": "@train#items",
        "class_balance": "@class_balance",
        "seed": "@seed",
    },
    inference_handlers=(
        {
            "_target_": "monai_cbis.handlers.ClassificationCSVWriter",
            "output_file": "$@output_dir + '/predictions.csv'",
            "class_names": "$monai_cbis.data.items.pathology_classes(@num_classes)",
        },
    ),
)


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

#: family name -> family. A new family is one :class:`BundleFamily` added here.
FAMILIES: dict[str, BundleFamily] = {f.name: f for f in (SEGMENTATION, CLASSIFICATION, DETECTION)}


def get_family(name: str) -> BundleFamily:
    """The :class:`BundleFamily` called ``name``.

    Raises:
        ValueError: ``name`` is not in :data:`FAMILIES` (the message lists the options).
    """
    if name not in FAMILIES:
        raise ValueError(f"Unsupported bundle family: {name!r}, available options are {list(FAMILIES)}.")
    return FAMILIES[name]
