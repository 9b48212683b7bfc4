"""Putting a bundle's network on its device, optionally in channels-last memory layout.

Channels-last (NHWC) stores a 2-D convolution's weights so that oneDNN on CPUs and cuDNN's tensor cores on GPUs read
them without reordering; a convolution whose weight is channels-last also returns channels-last activations, so the
inputs need no conversion. On this project's 2-core AMD EPYC it cut paper A's U-Net training step by about 10 %
(``bundles/unet_effb3/docs/README.md``); bundles switch it with ``--channels_last``.

Example:
    >>> import torch
    >>> net = place_network(torch.nn.Conv2d(1, 4, 3), torch.device("cpu"), channels_last=True)
    >>> net.weight.is_contiguous(memory_format=torch.channels_last)
    True
    >>> out = net(torch.rand(2, 1, 8, 8))
    >>> out.shape, out.is_contiguous(memory_format=torch.channels_last)
    (torch.Size([2, 4, 6, 6]), True)
"""

from __future__ import annotations

import torch

__all__ = ["place_network"]


def place_network(network: torch.nn.Module, device: torch.device | str, channels_last: bool = False) -> torch.nn.Module:
    """``network`` moved to ``device``; with ``channels_last`` its 4-D parameters (2-D convolutions) in NHWC layout.

    Other parameters (linear layers, norms, 5-D convolutions) keep their layout, as ``Module.to(memory_format=...)``
    does. Returns the same module, as ``Module.to`` does.
    """
    network = network.to(device)
    if channels_last:
        network = network.to(memory_format=torch.channels_last)
    return network
