"""Paper B's benign/malignant classifiers: a timm backbone, partly frozen, under a small dense head.

The backbone is a timm model with its classifier removed (``reset_classifier(0)``), so it returns globally pooled
features: average pooling for the CNNs, the class token for ViT-B/16. VGG16 also loses timm's ``pre_logits``
(the fully connected fc6/fc7 layers, as a 7x7 conv MLP), like Keras' ``VGG16(include_top=False)`` that the paper
pooled directly. The head is paper B's: dense (ReLU), dropout, dense to ``num_classes``.

"Trainable last layers" counts timm's parameter groups (``model.group_matcher(coarse=False)``, the groups timm uses
for layer-wise learning-rate decay): group 0 is the stem (for ViT: patch embedding, class token, position
embedding), then one group per block in forward order (a VGG conv layer, a ResNet bottleneck, a DenseNet dense layer
with a following transition, a MobileNetV2 inverted residual, a ViT transformer block); the final conv/norm joins
the last block (DenseNet's ``norm5`` is a group of its own). ``trainable_layers=N`` leaves the last N groups and the
head trainable and freezes the rest; frozen batch-norm layers also keep their running statistics (they stay in eval
mode), as a frozen Keras layer does. Paper B counted Keras layers, which include weightless ones (activations,
pooling, padding, additions); :data:`PAPER_B_TRAINABLE_LAYERS` gives the closest group counts.

Example:
    >>> net = timm_classifier("resnet50", num_classes=2, in_chans=1, trainable_layers=3)
    >>> net(torch.zeros(2, 1, 224, 224)).shape
    torch.Size([2, 2])
"""

from __future__ import annotations

import os

import torch
from monai.utils import optional_import
from torch import nn

from .weights import resolve_weights_file, timm_weights

timm, _ = optional_import("timm")
group_parameters, _ = optional_import("timm.models", name="group_parameters")

__all__ = ["ARCHITECTURES", "PAPER_B_TRAINABLE_LAYERS", "TimmClassifier", "timm_classifier"]

#: Paper B's architectures -> the timm model (with ImageNet tag) each one is built from.
ARCHITECTURES: dict[str, str] = {
    "vgg16": "vgg16.tv_in1k",  # torchvision's ImageNet-1k weights
    "vgg16_bn": "vgg16_bn.tv_in1k",  # VGG16 with batch norm (not paper B's; trains from scratch, see the bundle)
    "resnet50": "resnet50.tv_in1k",  # torchvision's original ResNet-50 weights (closest to Keras' "imagenet")
    "densenet121": "densenet121.tv_in1k",
    "mobilenetv2": "mobilenetv2_100.ra_in1k",  # width 1.0; timm's only ImageNet weights for this width
    "vit_b16": "vit_base_patch16_224.orig_in21k_ft_in1k",  # the original google/vit-base-patch16-224 weights
}

#: Paper B's "last N Keras layers trainable" as timm group counts (Keras layer lists counted from the end):
#: VGG16 8 layers = block4-5 convs and pools -> 6 convs; ResNet50 30 = conv5 blocks 3, 2 and most of 1 -> 3;
#: DenseNet121 100 = final BN/ReLU + 14 conv blocks -> 15 (14 dense layers + norm5); MobileNetV2 120 = from
#: block 3's projection on -> 13 whole blocks (the last with the head conv); ViT-B/16 backbone frozen -> 0.
PAPER_B_TRAINABLE_LAYERS: dict[str, int] = {
    "vgg16": 6,
    "vgg16_bn": 12,  # the same six convolutions, each followed by its batch norm (a group of its own)
    "resnet50": 3,
    "densenet121": 15,
    "mobilenetv2": 13,
    "vit_b16": 0,
}


class TimmClassifier(nn.Module):
    """A pooled-feature timm backbone followed by a dense head; see :func:`timm_classifier`.

    Args:
        backbone: a timm model whose ``forward`` returns pooled features of size ``backbone.num_features``.
        num_classes: outputs of the last dense layer.
        head_hidden: width of the hidden dense layer; 0 for a single linear layer (after the dropout).
        dropout: dropout ratio before the last dense layer.
        head_norm: batch norm after the hidden dense layer (paper B's ResNet50 and ViT heads have one).
    """

    __jit_ignored_attributes__ = ["_frozen_norms"]  # bookkeeping for train(); keeps the module scriptable

    def __init__(
        self,
        backbone: nn.Module,
        num_classes: int = 2,
        head_hidden: int = 256,
        dropout: float = 0.5,
        head_norm: bool = False,
    ):
        super().__init__()
        self.backbone = backbone
        self.num_features = int(backbone.num_features)
        if head_hidden:
            layers = [nn.Linear(self.num_features, head_hidden)]
            if head_norm:
                layers.append(nn.BatchNorm1d(head_hidden))
            layers += [nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(head_hidden, num_classes)]
        else:
            layers = [nn.Dropout(dropout), nn.Linear(self.num_features, num_classes)]
        self.head = nn.Sequential(*layers)
        self._frozen_norms = []  # names of frozen batch-norm modules, kept in eval mode by train()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def backbone_groups(self) -> list[list[str]]:
        """The backbone's parameter names per timm group, stem first (what ``trainable_layers`` counts)."""
        groups = group_parameters(self.backbone, self.backbone.group_matcher(coarse=False))
        return [groups[k] for k in sorted(groups)]

    def set_trainable_layers(self, trainable_layers: int | None) -> None:
        """Make the last ``trainable_layers`` backbone groups and the head trainable, freeze the rest.

        Args:
            trainable_layers: ``None`` for everything trainable, 0 to freeze the whole backbone, N for the last N
                groups of :meth:`backbone_groups`.

        Raises:
            ValueError: ``trainable_layers`` is negative or larger than the number of groups.
        """
        groups = self.backbone_groups()
        if trainable_layers is None:
            trainable_layers = len(groups)
        valid = isinstance(trainable_layers, int) and not isinstance(trainable_layers, bool)
        if not valid or not 0 <= trainable_layers <= len(groups):
            raise ValueError(
                f"trainable_layers must be None or an int in [0, {len(groups)}] (the backbone's parameter groups: "
                f"stem + blocks), got {trainable_layers!r}."
            )
        frozen = {name for group in groups[: len(groups) - trainable_layers] for name in group}
        for name, param in self.backbone.named_parameters():
            param.requires_grad_(name not in frozen)
        for param in self.head.parameters():
            param.requires_grad_(True)
        modules = {name.rpartition(".")[0] for name in frozen}
        self._frozen_norms = [
            m for m in sorted(modules) if isinstance(self.backbone.get_submodule(m), nn.modules.batchnorm._BatchNorm)
        ]
        self.train(self.training)

    def train(self, mode: bool = True) -> TimmClassifier:
        super().train(mode)
        for name in self._frozen_norms:  # frozen batch norm keeps its ImageNet statistics
            self.backbone.get_submodule(name).eval()
        return self


def timm_classifier(
    arch: str,
    num_classes: int = 2,
    in_chans: int = 3,
    pretrained: bool = False,
    trainable_layers: int | None = None,
    head_hidden: int = 256,
    dropout: float = 0.5,
    head_norm: bool = False,
    allow_download: bool = False,
    weights_path: str | os.PathLike | None = None,
    **kwargs,
) -> TimmClassifier:
    """Build one of paper B's classifiers: a timm backbone, optionally ImageNet-initialised, and a dense head.

    Args:
        arch: one of :data:`ARCHITECTURES` (``vgg16``, ``resnet50``, ``densenet121``, ``mobilenetv2``, ``vit_b16``;
            ``vgg16_bn`` is VGG16 with batch norm, not in paper B, for training from scratch).
        num_classes: 2 for benign/malignant.
        in_chans: image channels; with ImageNet weights and ``in_chans != 3`` timm adapts the stem (sums RGB for 1).
        pretrained: load ImageNet weights from ``weights_path``, by default
            ``$TORCH_HOME/hub/checkpoints/<timm name>.safetensors`` (e.g. ``resnet50.tv_in1k.safetensors``).
        trainable_layers: ``None`` trains everything; N trains the last N backbone groups (see the module doc and
            :data:`PAPER_B_TRAINABLE_LAYERS`) and the head; 0 trains the head only.
        head_hidden: width of the hidden dense layer; 0 for a plain linear head.
        dropout: dropout ratio in the head.
        head_norm: batch norm after the hidden dense layer (paper B's ResNet50 and ViT-B/16 heads; it also lets a
            from-scratch VGG16, whose pooled features barely vary between images at initialisation, start learning).
        allow_download: fetch a missing file from the Hugging Face hub into that path. Off by default: a missing
            file then raises with the exact path to fill.
        weights_path: a weights file to use instead of the default path (safetensors or a torch state dict in timm's
            key layout).
        kwargs: passed to ``timm.create_model`` (e.g. ``drop_path_rate``; ViT-B/16 takes 224x224 unless ``img_size``).

    Returns:
        a :class:`TimmClassifier` mapping ``(B, in_chans, H, W)`` to logits ``(B, num_classes)``.

    Raises:
        ValueError: an unknown ``arch`` (the message lists the supported ones) or a bad argument.
        PretrainedWeightsNotFoundError: ``pretrained`` and the file is missing, with ``allow_download`` false.

    Example:
        >>> net = timm_classifier("vgg16", pretrained=True, trainable_layers=6)  # doctest: +SKIP
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"Unsupported arch: {arch!r}, available options are {list(ARCHITECTURES)}.")
    if num_classes < 1 or in_chans < 1 or head_hidden < 0:
        raise ValueError(
            f"num_classes and in_chans must be >= 1 and head_hidden >= 0, got {num_classes}, {in_chans}, {head_hidden}."
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    if weights_path is not None and not pretrained:
        raise ValueError(f"weights_path={str(weights_path)!r} is only read with pretrained=True.")
    name = ARCHITECTURES[arch]
    if pretrained:
        path = resolve_weights_file(timm_weights(name), weights_path=weights_path, allow_download=allow_download)
        # Default num_classes (1000) so that timm loads strictly: a file for another model fails loudly.
        overlay = dict(file=str(path))  # timm's load_pretrained reads a 'file' before any hub id or URL
        try:
            backbone = timm.create_model(
                name, pretrained=True, in_chans=in_chans, pretrained_cfg_overlay=overlay, **kwargs
            )
        except RuntimeError as e:
            raise RuntimeError(f"Cannot load {path} into timm model {name!r}: {e}") from e
    else:
        backbone = timm.create_model(name, pretrained=False, in_chans=in_chans, **kwargs)
    backbone.reset_classifier(0)
    if arch.startswith("vgg"):
        backbone.pre_logits = nn.Identity()
    if head_norm and not head_hidden:
        raise ValueError("head_norm=True needs a hidden dense layer (head_hidden > 0) to normalise.")
    net = TimmClassifier(
        backbone, num_classes=num_classes, head_hidden=head_hidden, dropout=dropout, head_norm=head_norm
    )
    net.set_trainable_layers(trainable_layers)
    return net
