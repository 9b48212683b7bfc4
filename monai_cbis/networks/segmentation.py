"""Segmentation networks: paper A's EfficientNet-B3 U-Net, paper B's lesion-crop U-Net and DeepLabV3+.

Paper A's network is a U-Net with an ImageNet EfficientNet-B3 encoder (MONAI ``FlexibleUNet``). MONAI builds the
network and loads the ImageNet file itself (``torch.utils.model_zoo.load_url`` from the torch hub cache). Two things
are added here: the file is checked for before anything is built, so a missing file raises
:class:`~monai_cbis.networks.weights.PretrainedWeightsNotFoundError` instead of a download attempt, and the stem
convolution is adapted to ``in_channels != 3``. MONAI copies only tensors whose shapes match, so for a grayscale
mammogram its 3-channel stem would silently stay random; here it gets the ImageNet filters summed over RGB, as timm's
``adapt_input_conv`` does.

Paper B segments 512 x 512 lesion crops with two networks: :func:`roi_unet` (MONAI ``BasicUNet``: batch norm,
dropout, transposed convolutions) and :func:`deeplabv3plus_resnet50` (segmentation_models_pytorch's DeepLabV3+ on a
ResNet-50, whose ImageNet file is the one ``timm_classifier("resnet50")`` reads; smp itself never downloads here).
All three return unactivated logits ``(B, out_channels, H, W)`` and can be scripted with ``torch.jit.script``.

Example:
    >>> net = unet_efficientnet_b3(in_channels=1, out_channels=1)
    >>> net(torch.zeros(1, 1, 224, 224)).shape
    torch.Size([1, 1, 224, 224])
    >>> roi_unet()(torch.zeros(1, 1, 64, 64)).shape
    torch.Size([1, 1, 64, 64])
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from monai.networks.nets import BasicUNet, FlexibleUNet
from monai.utils import optional_import

from .weights import efficientnet_weights, read_state_dict, resolve_weights_file, timm_weights

adapt_input_conv, _ = optional_import("timm.models", name="adapt_input_conv")
smp, _ = optional_import("segmentation_models_pytorch")

__all__ = ["deeplabv3plus_resnet50", "roi_unet", "unet_efficientnet_b3"]

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
    if bn_momentum is not None and not 0.0 < bn_momentum <= 1.0:  # before building: a bad value fails at once
        raise ValueError(f"bn_momentum must be in (0, 1] or None, got {bn_momentum}.")
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


def roi_unet(
    in_channels: int = 1,
    out_channels: int = 1,
    features: Sequence[int] = (32, 32, 64, 128, 256, 32),
    dropout: float = 0.1,
    norm: str | tuple = "batch",
    act: str | tuple = "relu",
) -> BasicUNet:
    """Paper B's lesion-crop U-Net: MONAI ``BasicUNet`` in 2D with batch norm, dropout and transposed convolutions.

    A classical encoder-decoder with skip connections: two 3x3 convolutions per level, max pooling on the way down,
    transposed convolutions on the way up, each level's features concatenated with the skip, then a 1x1 convolution
    to unactivated logits ``(B, out_channels, H, W)`` (the loss and post-processing apply the sigmoid). Paper B gives
    no filter counts, so MONAI's ``BasicUNet`` defaults are used; ``features`` overrides them. Height and width are
    best multiples of 16 (512 is); other sizes are padded inside the decoder.

    Args:
        in_channels: image channels (1 for a grayscale crop).
        out_channels: output channels (1 for a binary lesion mask).
        features: six filter counts: the five encoder levels, then the last decoder level.
        dropout: dropout ratio after every convolution.
        norm: MONAI normalisation name or ``(name, args)``; ``"batch"`` as in paper B.
        act: MONAI activation name or ``(name, args)``.

    Returns:
        a ``monai.networks.nets.BasicUNet``, scriptable with ``torch.jit.script`` (so MONAI's ``ckpt_export``).

    Raises:
        ValueError: a bad channel count, ``features`` or dropout (MONAI names the options for ``norm`` and ``act``).

    Example:
        >>> net = roi_unet(in_channels=1, out_channels=1)
        >>> net(torch.zeros(2, 1, 512, 512)).shape
        torch.Size([2, 1, 512, 512])
    """
    if in_channels < 1 or out_channels < 1:
        raise ValueError(f"in_channels and out_channels must be >= 1, got {in_channels} and {out_channels}.")
    if (
        isinstance(features, str | bytes)
        or not isinstance(features, Sequence)
        or len(features) != 6
        or not all(isinstance(f, int) and not isinstance(f, bool) and f >= 1 for f in features)
    ):
        raise ValueError(
            f"features must be six positive ints (five encoder levels, last decoder level), got {features!r}."
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    return BasicUNet(
        spatial_dims=2,
        in_channels=in_channels,
        out_channels=out_channels,
        features=tuple(features),
        act=act,
        norm=norm,
        dropout=dropout,
        upsample="deconv",
    )


_RESNET50 = "resnet50.tv_in1k"  # the ImageNet file timm_classifier("resnet50") reads, in torchvision's key layout
#: What ``deeplabv3plus_resnet50`` passes on to ``smp.DeepLabV3Plus`` (smp would silently drop unknown keywords).
_DEEPLAB_OPTIONS = (
    "encoder_depth",
    "decoder_channels",
    "decoder_atrous_rates",
    "decoder_aspp_separable",
    "decoder_aspp_dropout",
)


def deeplabv3plus_resnet50(
    in_channels: int = 3,
    out_channels: int = 1,
    pretrained: bool = False,
    allow_download: bool = False,
    weights_path: str | os.PathLike | None = None,
    encoder_output_stride: int = 16,
    **kwargs,
) -> torch.nn.Module:
    """Paper B's DeepLabV3+ on a ResNet-50 encoder (segmentation_models_pytorch): ASPP plus a low-level skip.

    smp's ``resnet50`` encoder is torchvision's ResNet without ``fc``; its last stage is dilated to reach
    ``encoder_output_stride``. The ASPP output is up-sampled, joined with the stride-4 features, refined and up-sampled
    to unactivated logits ``(B, out_channels, H, W)``. Height and width must be multiples of ``encoder_output_stride``
    (512 is). Training needs batches of at least 2, since the ASPP pooling branch batch-normalises a 1x1 map (a
    training ``DataLoader`` wants ``drop_last=True``); inference takes any batch. smp leaves the decoder at PyTorch's
    default initialisation (its DeepLab models skip ``initialize()``).

    smp is always built with ``encoder_weights=None``, so it never downloads. With ``pretrained`` the ImageNet
    ResNet-50 is read here from ``$TORCH_HOME/hub/checkpoints/resnet50.tv_in1k.safetensors``, the file
    ``timm_classifier("resnet50", pretrained=True)`` uses, and loaded strictly except for the classifier ``fc.*``.
    Paper B repeats the grayscale crop to 3 channels (the data pipeline does); for ``in_channels != 3`` the ImageNet
    stem is adapted instead (summed over RGB for one channel, as timm's ``adapt_input_conv`` does).

    Args:
        in_channels: image channels (3: the grayscale crop repeated, as in paper B).
        out_channels: output channels (1 for a binary lesion mask).
        pretrained: start the encoder from ImageNet weights (see above).
        allow_download: fetch a missing file from the Hugging Face hub (``timm/resnet50.tv_in1k``) into that path.
            Off by default: a missing file then raises with the exact path to fill.
        weights_path: a file to use instead of the default path: safetensors, or a torch state dict, with
            torchvision/timm ResNet-50 key names (``conv1``, ``bn1``, ``layer1`` .. ``layer4``, ``fc``).
        encoder_output_stride: 16 (DeepLabV3+'s default) or 8.
        kwargs: further ``smp.DeepLabV3Plus`` arguments: ``encoder_depth``, ``decoder_channels``,
            ``decoder_atrous_rates``, ``decoder_aspp_separable``, ``decoder_aspp_dropout``.

    Returns:
        a ``segmentation_models_pytorch.DeepLabV3Plus``, scriptable with ``torch.jit.script`` (so MONAI's
        ``ckpt_export``; ``torch.jit.trace`` works too).

    Raises:
        PretrainedWeightsNotFoundError: ``pretrained`` and the file is missing, with ``allow_download`` false.
        RuntimeError: the file is not a ResNet-50 state dict (the message names the file).
        ValueError: a bad channel count, output stride or keyword argument.

    Example:
        >>> net = deeplabv3plus_resnet50(in_channels=3, out_channels=1).eval()
        >>> net(torch.zeros(1, 3, 512, 512)).shape
        torch.Size([1, 1, 512, 512])
        >>> net = deeplabv3plus_resnet50(pretrained=True)  # doctest: +SKIP
        PretrainedWeightsNotFoundError: Pretrained weights for 'resnet50.tv_in1k' not found at ...
    """
    if in_channels < 1 or out_channels < 1:
        raise ValueError(f"in_channels and out_channels must be >= 1, got {in_channels} and {out_channels}.")
    if encoder_output_stride not in (8, 16):
        raise ValueError(
            f"Unsupported encoder_output_stride: {encoder_output_stride!r}, available options are [8, 16]."
        )
    unknown = sorted(set(kwargs) - set(_DEEPLAB_OPTIONS))
    if unknown:
        raise ValueError(
            f"Unsupported argument(s) {unknown} for deeplabv3plus_resnet50, available options are "
            f"{list(_DEEPLAB_OPTIONS)} (encoder, weights and channel counts are set by the named arguments)."
        )
    if weights_path is not None and not pretrained:
        raise ValueError(f"weights_path={str(weights_path)!r} is only read with pretrained=True.")
    path = None
    if pretrained:  # before building, so that a missing file fails fast
        path = resolve_weights_file(timm_weights(_RESNET50), weights_path=weights_path, allow_download=allow_download)
    net = smp.DeepLabV3Plus(
        encoder_name="resnet50",
        encoder_weights=None,  # never let smp download (it would fetch smp-hub/resnet50.imagenet)
        encoder_output_stride=encoder_output_stride,
        in_channels=in_channels,
        classes=out_channels,
        **kwargs,
    )
    if path is not None:
        _load_resnet50_encoder(net.encoder, path)
    return net


def _load_resnet50_encoder(encoder: torch.nn.Module, path: os.PathLike) -> None:
    """Load an ImageNet ResNet-50 file into smp's encoder: strictly, minus ``fc.*``, stem adapted to its channels."""
    state = {k: v for k, v in read_state_dict(path).items() if not k.startswith("fc.")}
    stem = state.get("conv1.weight")
    in_channels = encoder.conv1.in_channels
    if in_channels != 3 and stem is not None and stem.ndim == 4 and stem.shape[1] == 3:
        state["conv1.weight"] = adapt_input_conv(in_channels, stem)
    own = encoder.state_dict()
    problems = {
        "missing": [k for k in own if k not in state and not k.endswith("num_batches_tracked")],
        "unexpected": [k for k in state if k not in own],
        "wrong shape": [
            f"{k} {tuple(getattr(v, 'shape', ()))}"
            for k, v in state.items()
            if k in own and getattr(v, "shape", None) != own[k].shape
        ],
    }
    if any(problems.values()):  # a short summary instead of PyTorch's list of every key
        found = "; ".join(f"{len(v)} {kind} (e.g. {', '.join(v[:3])})" for kind, v in problems.items() if v)
        raise RuntimeError(
            f"Cannot load {path} into DeepLabV3+'s ResNet-50 encoder: it is not a {_RESNET50} state dict "
            f"(torchvision/timm key names conv1, bn1, layer1..layer4, fc): {found}."
        )
    try:
        encoder.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise RuntimeError(f"Cannot load {path} into DeepLabV3+'s ResNet-50 encoder: {e}") from e
