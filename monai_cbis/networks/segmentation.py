"""Paper A's segmentation network: a U-Net with an ImageNet EfficientNet-B3 encoder (MONAI ``FlexibleUNet``).

MONAI builds the network and loads the ImageNet file itself (``torch.utils.model_zoo.load_url`` from the torch hub
cache). Two things are added here: the file is checked for before anything is built, so a missing file raises
:class:`~monai_cbis.networks.weights.PretrainedWeightsNotFoundError` instead of a download attempt, and the stem
convolution is adapted to ``in_channels != 3``. MONAI copies only tensors whose shapes match, so for a grayscale
mammogram its 3-channel stem would silently stay random; here it gets the ImageNet filters summed over RGB, as timm's
``adapt_input_conv`` does.

Example:
    >>> net = unet_efficientnet_b3(in_channels=1, out_channels=1)
    >>> net(torch.zeros(1, 1, 224, 224)).shape
    torch.Size([1, 1, 224, 224])
"""

from __future__ import annotations

import torch
from monai.networks.nets import FlexibleUNet
from monai.utils import optional_import

from .weights import efficientnet_weights, resolve_weights_file

adapt_input_conv, _ = optional_import("timm.models", name="adapt_input_conv")

__all__ = ["unet_efficientnet_b3"]

_BACKBONE = "efficientnet-b3"
_STEM_KEY = "_conv_stem.weight"  # the stem's name in MONAI's encoder and in the upstream weights file alike


def unet_efficientnet_b3(
    in_channels: int = 1,
    out_channels: int = 1,
    pretrained: bool = False,
    dropout: float = 0.2,
    allow_download: bool = False,
    progress: bool = True,
    bn_momentum: float | None = 0.1,
    **kwargs,
) -> FlexibleUNet:
    """A 2D U-Net with an EfficientNet-B3 encoder, batch norm and decoder dropout (paper A).

    Logits come out unactivated, one channel per class (apply a sigmoid for the binary mask). Height and width
    should be multiples of 32 (224 is); other sizes work through ``FlexibleUNet``'s padding.

    Args:
        in_channels: image channels (1 for a grayscale mammogram).
        out_channels: output channels (1 for a binary lesion mask).
        pretrained: start the encoder from ImageNet weights, read from
            ``$TORCH_HOME/hub/checkpoints/efficientnet-b3-5fb5a3c3.pth``. For ``in_channels != 3`` the stem filters
            are adapted (summed over RGB for one channel) instead of left random.
        dropout: dropout ratio in every decoder block.
        allow_download: fetch a missing weights file from MONAI's URL (GitHub) into that folder. Off by default:
            a missing file then raises with the exact path to fill.
        progress: show a progress bar when downloading.
        bn_momentum: PyTorch momentum of every batch-norm layer (0.1 is PyTorch's default). MONAI's EfficientNet
            encoder uses TensorFlow's 0.99, i.e. 0.01 here: trained from scratch, its running statistics then keep
            much of their initial (0, 1) values for hundreds of steps, and the model in ``eval()`` mode predicts
            nothing while in ``train()`` mode it already segments (measured on the synthetic demo after 108 steps:
            lesion Dice 0.86 in train mode, 0.0 in eval mode). ``None`` keeps MONAI's values.
        kwargs: further ``FlexibleUNet`` arguments (``decoder_channels``, ``upsample``, ``norm``, ``act``,
            ``interp_mode``, ``is_pad``, ``decoder_bias``, ``pre_conv``). The decoder's ``norm`` defaults to batch norm.

    Returns:
        a ``monai.networks.nets.FlexibleUNet``, scriptable with ``torch.jit.script`` (so MONAI's ``ckpt_export``).

    Raises:
        PretrainedWeightsNotFoundError: ``pretrained`` and the file is missing, with ``allow_download`` false.
        ValueError: a bad channel count or dropout, or a weights file that is not EfficientNet-B3's.

    Example:
        >>> net = unet_efficientnet_b3(pretrained=True)  # doctest: +SKIP
        PretrainedWeightsNotFoundError: Pretrained weights for 'efficientnet-b3' not found: ...
    """
    if in_channels < 1 or out_channels < 1:
        raise ValueError(f"in_channels and out_channels must be >= 1, got {in_channels} and {out_channels}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    weights_file = None
    if pretrained:  # before building: MONAI would otherwise start a download for a missing file
        weights_file = resolve_weights_file(
            efficientnet_weights(_BACKBONE), allow_download=allow_download, progress=progress
        )
    net = FlexibleUNet(
        in_channels=in_channels,
        out_channels=out_channels,
        backbone=_BACKBONE,
        pretrained=pretrained,
        spatial_dims=2,
        dropout=dropout,
        **kwargs,
    )
    if weights_file is not None:
        _load_stem(net, torch.load(weights_file, map_location="cpu", weights_only=True), str(weights_file))
    if bn_momentum is not None:
        if not 0.0 < bn_momentum <= 1.0:
            raise ValueError(f"bn_momentum must be in (0, 1] or None, got {bn_momentum}.")
        for m in net.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.momentum = bn_momentum
    return net


def _load_stem(net: FlexibleUNet, state_dict: dict, source: str) -> None:
    """Check that ``state_dict`` is EfficientNet-B3's and copy its stem, adapted to the net's input channels."""
    stem = net.encoder._conv_stem.weight
    saved = state_dict.get(_STEM_KEY)
    if saved is None or saved.ndim != 4 or saved.shape[0] != stem.shape[0] or saved.shape[2:] != stem.shape[2:]:
        found = None if saved is None else tuple(saved.shape)
        raise ValueError(
            f"{source} is not an EfficientNet-B3 ImageNet state dict: {_STEM_KEY!r} has shape {found}, "
            f"expected ({stem.shape[0]}, 3, {stem.shape[2]}, {stem.shape[3]})."
        )
    with torch.no_grad():
        stem.copy_(adapt_input_conv(stem.shape[1], saved.to(stem.dtype)))
