"""Network factories for the two papers, with an offline rule for pretrained weights.

``segmentation`` holds paper A's EfficientNet-B3 U-Net (MONAI ``FlexibleUNet``) and paper B's lesion-crop networks,
:func:`roi_unet` (MONAI ``BasicUNet``) and :func:`deeplabv3plus_resnet50` (segmentation_models_pytorch's DeepLabV3+
on a ResNet-50); ``classification`` holds paper B's timm classifiers; ``detection`` the lesion detector (MONAI's
2-D RetinaNet on torchvision's ResNet-50 with a feature pyramid, and its ``RetinaNetDetector``).
None of them downloads: ImageNet files are read from ``$TORCH_HOME/hub/checkpoints`` (see ``weights``), and a
missing file raises :class:`PretrainedWeightsNotFoundError` naming the file and folder, unless the caller passes
``allow_download=True``.

Example:
    >>> from monai_cbis.networks import deeplabv3plus_resnet50, roi_unet, timm_classifier, unet_efficientnet_b3
    >>> seg = unet_efficientnet_b3(in_channels=1, out_channels=1, pretrained=False)
    >>> unet, deeplab = roi_unet(in_channels=1), deeplabv3plus_resnet50(in_channels=3)
    >>> cls = timm_classifier("densenet121", num_classes=2, trainable_layers=15)
"""

from __future__ import annotations

from .classification import ARCHITECTURES, PAPER_B_TRAINABLE_LAYERS, TimmClassifier, timm_classifier
from .detection import pyramid_scales, resnet50_backbone, retinanet_2d, retinanet_detector
from .placement import place_network
from .segmentation import deeplabv3plus_resnet50, roi_unet, unet_efficientnet_b3
from .weights import (
    PretrainedWeights,
    PretrainedWeightsNotFoundError,
    download_weights,
    efficientnet_weights,
    read_state_dict,
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
    "deeplabv3plus_resnet50",
    "place_network",
    "download_weights",
    "efficientnet_weights",
    "read_state_dict",
    "resolve_weights_file",
    "resnet50_backbone",
    "pyramid_scales",
    "retinanet_2d",
    "retinanet_detector",
    "roi_unet",
    "timm_classifier",
    "timm_weights",
    "unet_efficientnet_b3",
    "weights_dir",
]
