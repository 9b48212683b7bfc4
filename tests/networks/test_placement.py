"""place_network: the device move of every bundle's network, and its channels-last switch."""

from __future__ import annotations

import torch

from monai_cbis.networks import place_network, roi_unet


def test_channels_last_keeps_the_output_and_changes_only_the_layout():
    torch.manual_seed(0)
    net = roi_unet(in_channels=1, out_channels=1).eval()
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        plain = net(x).clone()
        placed = place_network(net, "cpu", channels_last=True)
        assert placed is net
        convs = [m.weight for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
        assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
        assert torch.allclose(placed(x), plain, atol=1e-5)


def test_without_channels_last_the_layout_is_left_alone():
    net = place_network(torch.nn.Conv2d(3, 4, 3), torch.device("cpu"))
    assert net.weight.is_contiguous() and not net.weight.is_contiguous(memory_format=torch.channels_last)
