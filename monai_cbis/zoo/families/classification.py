"""The classification family: benign / malignant probabilities, ROC AUC and accuracy, class balance, CSV output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import PRED_LABEL, BundleFamily

if TYPE_CHECKING:
    from ..levels import ItemLevel
    from ..specs import BundleSpec

__all__ = ["CLASSIFICATION"]


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
        "val_auc": {"_target_": "ROCAUC", "output_transform": PRED_LABEL},
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
