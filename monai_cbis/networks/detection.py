"""The lesion detector: MONAI's 2-D RetinaNet on a torchvision ResNet-50 with a feature pyramid, and the
``RetinaNetDetector`` that trains and runs it (anchors, ATSS matcher, hard-negative sampler, box coder, NMS).

MONAI's ``resnet_fpn_feature_extractor`` takes any ResNet whose stages are called ``conv1``, ``layer1``...
``layer4``; torchvision's ResNet-50 has them (and the ImageNet weights). MONAI reads the stem width as
``in_planes`` where torchvision calls it ``inplanes``: :func:`resnet50_backbone` sets both.

ImageNet weights follow the project's offline rule (:mod:`~monai_cbis.networks.weights`): the file
``resnet50.tv_in1k.safetensors`` (torchvision's ImageNet-1k ResNet-50, the one the ResNet-50 classifier and
DeepLabV3+ use) in ``$TORCH_HOME/hub/checkpoints``, or a clear ``PretrainedWeightsNotFoundError``. A grey
mammogram has one channel: the stem's RGB filters are summed (as timm does for ``in_chans=1``).

Example:
    >>> import torch
    >>> net = retinanet_2d(num_classes=2, returned_layers=(2, 3))
    >>> det = retinanet_detector(net, anchor_sizes=((8, 8), (16, 16), (32, 32)))
    >>> pyramid_scales(net)
    [1, 2, 4]
    >>> _ = det.eval()
    >>> with torch.no_grad():
    ...     out = det([torch.rand(1, 64, 96)])
    >>> sorted(out[0])
    ['box', 'label', 'label_scores']
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from monai.apps.detection.networks.retinanet_detector import RetinaNetDetector
from monai.apps.detection.networks.retinanet_network import RetinaNet, resnet_fpn_feature_extractor
from monai.apps.detection.utils.anchor_utils import AnchorGeneratorWithAnchorShape
from monai.utils import ensure_tuple_rep
from torch import nn
from torchvision.models import resnet50

from .weights import read_state_dict, resolve_weights_file, timm_weights

__all__ = ["pyramid_scales", "resnet50_backbone", "retinanet_2d", "retinanet_detector", "RESNET50_WEIGHTS"]

#: The ImageNet file of the detector's backbone (timm's name for torchvision's ImageNet-1k ResNet-50 weights).
RESNET50_WEIGHTS = "resnet50.tv_in1k"


def resnet50_backbone(
    in_channels: int = 1,
    pretrained: bool = False,
    weights_path: str | os.PathLike | None = None,
    allow_download: bool = False,
) -> nn.Module:
    """torchvision's ResNet-50, optionally ImageNet-initialised, with ``in_channels`` input channels.

    Args:
        in_channels: 1 (grey mammogram: the pretrained stem's RGB filters are summed) or 3.
        pretrained: load :data:`RESNET50_WEIGHTS` from ``weights_path`` or the torch hub cache.
        weights_path, allow_download: as for :func:`~monai_cbis.networks.weights.resolve_weights_file`.

    Raises:
        ValueError: ``in_channels`` other than 1 or 3.
        PretrainedWeightsNotFoundError: ``pretrained`` and the file is missing (the message names file and folder).
    """
    if in_channels not in (1, 3):
        raise ValueError(f"in_channels must be 1 or 3, got {in_channels}.")
    net = resnet50(weights=None)
    if pretrained:
        path = resolve_weights_file(timm_weights(RESNET50_WEIGHTS), weights_path, allow_download)
        state = read_state_dict(path)
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise RuntimeError(f"Cannot load {path} into torchvision's ResNet-50: {e}") from e
    if in_channels == 1:
        old = net.conv1
        net.conv1 = nn.Conv2d(1, old.out_channels, old.kernel_size, old.stride, old.padding, bias=False)
        with torch.no_grad():
            net.conv1.weight.copy_(old.weight.sum(dim=1, keepdim=True))
    net.in_planes = net.inplanes  # MONAI's FPN extractor reads the stem width under this name
    return net


def retinanet_2d(
    num_classes: int = 2,
    in_channels: int = 1,
    pretrained: bool = False,
    returned_layers: Sequence[int] = (2, 3),
    num_anchors: int = 3,
    trainable_backbone_layers: int | None = None,
    weights_path: str | os.PathLike | None = None,
    allow_download: bool = False,
) -> RetinaNet:
    """MONAI's ``RetinaNet`` in 2-D on :func:`resnet50_backbone` with a feature pyramid.

    Args:
        num_classes: box classes without background (2: mass / calcification, or benign / malignant).
        in_channels, pretrained, weights_path, allow_download: as for :func:`resnet50_backbone`.
        returned_layers: ResNet stages feeding the pyramid (each in 1..4); the pyramid has one more level
            (max-pooled); the detector pads the input to a multiple of ``2 * 2 * 2 ** max(returned_layers)``.
            The default ``(2, 3)`` puts the finest level at stride 8, as torchvision's RetinaNet (P3); stage 1
            (stride 4) would quadruple the locations the heads' eight 256-channel convolutions run over, which
            made a CPU training step 2.6 times slower (1.36 against 0.53 CPU s per 128 x 128 image, one thread).
        num_anchors: anchors per location (the anchor generator's ``len(anchor_sizes)``).
        trainable_backbone_layers: with ``pretrained``, how many ResNet stages train (MONAI's default 3); without,
            all do.

    Returns:
        the network: images ``(B, C, H, W)`` -> classification and box-regression maps per pyramid level.
    """
    backbone = resnet50_backbone(in_channels, pretrained, weights_path, allow_download)
    extractor = resnet_fpn_feature_extractor(
        backbone, 2, pretrained_backbone=pretrained, returned_layers=list(returned_layers),
        trainable_backbone_layers=trainable_backbone_layers,
    )  # fmt: skip
    size_divisible = backbone.conv1.stride[0] * 2 * 2 ** max(returned_layers)  # as MONAI's retinanet_resnet50_fpn
    return RetinaNet(
        spatial_dims=2,
        num_classes=num_classes,
        num_anchors=num_anchors,
        feature_extractor=extractor,
        size_divisible=size_divisible,
    )


def pyramid_scales(network: RetinaNet) -> list[int]:
    """The strides of ``network``'s pyramid levels relative to the finest: ``[1, 2, 4, ...]``, one per returned ResNet
    stage plus the max-pooled level (what ``AnchorGeneratorWithAnchorShape`` calls ``feature_map_scales``).

    Raises:
        TypeError: ``network`` is not a RetinaNet on a feature pyramid (no ``feature_extractor.body.return_layers``).
    """
    try:
        stages = len(network.feature_extractor.body.return_layers)
    except AttributeError as e:
        raise TypeError(
            f"Cannot read the pyramid levels of {type(network).__name__}; pass feature_map_scales explicitly."
        ) from e
    return [2**i for i in range(stages + 1)]


def retinanet_detector(
    network: RetinaNet,
    anchor_sizes: Sequence[Sequence[int]] = ((16, 16), (32, 32), (64, 64)),
    feature_map_scales: Sequence[int] | None = None,
    atss_candidates: int = 4,
    sampler_batch_size: int = 64,
    positive_fraction: float = 0.3,
    score_thresh: float = 0.02,
    nms_thresh: float = 0.22,
    detections_per_img: int = 100,
    topk_candidates_per_level: int = 1000,
    window_size: int | Sequence[int] | None = None,
    window_overlap: float = 0.25,
    box_key: str = "box",
    label_key: str = "label",
) -> RetinaNetDetector:
    """The ``RetinaNetDetector`` around ``network``, configured as MONAI's lung-nodule bundle does, in 2-D.

    Args:
        network: from :func:`retinanet_2d`.
        anchor_sizes: ``(w, h)`` anchor shapes at the finest pyramid level (``AnchorGeneratorWithAnchorShape``);
            their number must be the network's ``num_anchors``.
        feature_map_scales: the pyramid levels' strides relative to the finest (one per level:
            ``len(returned_layers) + 1``); None: :func:`pyramid_scales` of ``network``.
        atss_candidates: ATSS matcher candidates per level.
        sampler_batch_size, positive_fraction: hard-negative sampler (pool 20, at least 16 negatives).
        score_thresh, nms_thresh, detections_per_img, topk_candidates_per_level: box selection (NMS).
        window_size: a sliding-window size (one int: square) for inference with ``use_inferer=True``, as MONAI
            Label runs a detector; the bundle gives its ``long_side``, so one window covers the working image.
        box_key, label_key: the target and prediction keys (scores: ``<label_key>_scores``).

    Raises:
        ValueError: anchors per location differ from the network's (MONAI's message).
    """
    if feature_map_scales is None:
        feature_map_scales = pyramid_scales(network)
    anchors = AnchorGeneratorWithAnchorShape(
        feature_map_scales=list(feature_map_scales), base_anchor_shapes=[list(s) for s in anchor_sizes]
    )
    det = RetinaNetDetector(network, anchors, debug=False)
    det.set_atss_matcher(num_candidates=atss_candidates, center_in_gt=False)
    det.set_hard_negative_sampler(
        batch_size_per_image=sampler_batch_size, positive_fraction=positive_fraction, pool_size=20, min_neg=16
    )
    det.set_target_keys(box_key=box_key, label_key=label_key)
    det.set_box_selector_parameters(
        score_thresh=score_thresh,
        topk_candidates_per_level=topk_candidates_per_level,
        nms_thresh=nms_thresh,
        detections_per_img=detections_per_img,
    )
    if window_size is not None:
        det.set_sliding_window_inferer(
            roi_size=list(ensure_tuple_rep(window_size, 2)),
            overlap=window_overlap,
            sw_batch_size=1,
            mode="constant",
            device=None,
        )
    return det
