"""Network factories for the two papers, with an offline rule for pretrained weights.

``segmentation`` (paper A's EfficientNet-B3 U-Net, MONAI ``FlexibleUNet``) and ``classification`` (paper B's timm
classifiers) never download: ImageNet files are read from ``$TORCH_HOME/hub/checkpoints`` (see ``weights``), and a
missing file raises :class:`PretrainedWeightsNotFoundError` naming the file and folder, unless the caller passes
``allow_download=True``.

Example:
    >>> from monai_cbis.networks import timm_classifier, unet_efficientnet_b3
    >>> seg = unet_efficientnet_b3(in_channels=1, out_channels=1, pretrained=False)
    >>> cls = timm_classifier("densenet121", num_classes=2, trainable_layers=15)
"""

from __future__ import annotations

from .classification import ARCHITECTURES, PAPER_B_TRAINABLE_LAYERS, TimmClassifier, timm_classifier
from .segmentation import unet_efficientnet_b3
from .weights import (
    PretrainedWeights,
    PretrainedWeightsNotFoundError,
    download_weights,
    efficientnet_weights,
    resolve_weights_file,
    timm_weights,
    weights_dir,
)

__all__ = [
    "ARCHITECTURES",
    "PAPER_B_TRAINABLE_LAYERS",
    "PretrainedWeights",
    "PretrainedWeightsNotFoundError",
    "TimmClassifier",
    "download_weights",
    "efficientnet_weights",
    "resolve_weights_file",
    "timm_classifier",
    "timm_weights",
    "unet_efficientnet_b3",
    "weights_dir",
]
