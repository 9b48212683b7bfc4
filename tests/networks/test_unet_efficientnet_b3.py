"""unet_efficientnet_b3: offline ImageNet loading from a saved state dict, stem adaptation, TorchScript export."""

from __future__ import annotations

import re

import pytest
import torch
from monai.networks.nets import EfficientNetBN, FlexibleUNet
from monai.networks.utils import convert_to_torchscript
from scratch import scratch_dir
from torch import nn

from monai_cbis.networks import PretrainedWeightsNotFoundError, unet_efficientnet_b3

FILE_NAME = "efficientnet-b3-5fb5a3c3.pth"
URL = f"https://github.com/lukemelas/EfficientNet-PyTorch/releases/download/1.0/{FILE_NAME}"
# MONAI nests blocks per stage (_blocks.<stage>.<block>.*); the upstream file numbers them flat (_blocks.<block>.*).
_FLAT = re.compile(r"(.+)\.\d+(\.\d+\..+)")


def upstream_key(key: str) -> str:
    return _FLAT.sub(r"\1\2", key)


@pytest.fixture(scope="module")
def saved(request, tmp_path_factory):
    """A random 3-channel EfficientNet-B3 state dict in the upstream file's layout, as the real file would be."""
    torch.manual_seed(0)
    ref = EfficientNetBN("efficientnet-b3", pretrained=False, spatial_dims=2, in_channels=3, num_classes=1000)
    state = {upstream_key(k): v.clone() for k, v in ref.state_dict().items()}
    folder = scratch_dir(request, tmp_path_factory, "b3_weights")
    torch.save(state, folder / FILE_NAME)
    return folder / FILE_NAME, state


def put_weights(saved, torch_home):
    torch_home.mkdir(parents=True, exist_ok=True)
    (torch_home / FILE_NAME).write_bytes(saved[0].read_bytes())
    return saved[1]


@pytest.fixture(scope="module")
def grayscale_net(request, saved, tmp_path_factory):
    """The paper's configuration: one input channel, ImageNet encoder read from a temporary TORCH_HOME."""
    home = scratch_dir(request, tmp_path_factory, "torch_home")
    put_weights(saved, home / "hub" / "checkpoints")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TORCH_HOME", str(home))
        torch.manual_seed(1)
        return unet_efficientnet_b3(in_channels=1, out_channels=1, pretrained=True).eval()


def test_pretrained_encoder_equals_saved_file(grayscale_net, saved):
    state = saved[1]
    encoder = grayscale_net.encoder.state_dict()
    compared = 0
    for key, value in encoder.items():
        if key != "_conv_stem.weight" and upstream_key(key) in state:
            assert torch.equal(value, state[upstream_key(key)]), key
            compared += 1
    assert compared > 500  # every block, not a handful of keys
    assert torch.equal(encoder["_blocks.6.25._project_conv.weight"], state["_blocks.25._project_conv.weight"])


def test_grayscale_stem_is_rgb_sum_of_saved_stem(grayscale_net, saved):
    stem = grayscale_net.encoder._conv_stem.weight
    expected = saved[1]["_conv_stem.weight"].sum(dim=1, keepdim=True)
    assert stem.shape == (40, 1, 3, 3)
    assert torch.allclose(stem, expected, atol=1e-6)


def test_rgb_stem_is_copied_unchanged(saved, torch_home, network_calls):
    state = put_weights(saved, torch_home)
    net = unet_efficientnet_b3(in_channels=3, out_channels=2, pretrained=True)
    assert torch.equal(net.encoder._conv_stem.weight, state["_conv_stem.weight"])
    assert torch.equal(net.encoder._bn0.running_var, state["_bn0.running_var"])
    assert network_calls == []


def test_missing_file_names_the_exact_path_and_stays_offline(torch_home, network_calls):
    with pytest.raises(PretrainedWeightsNotFoundError) as info:
        unet_efficientnet_b3(pretrained=True)
    assert str(torch_home / FILE_NAME) in str(info.value) and URL in str(info.value)
    assert network_calls == []
    assert not torch_home.exists()  # nothing was created while failing


def test_allow_download_goes_through_the_explicit_flag(saved, torch_home, monkeypatch):
    seen = []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        seen.append(url)
        torch.save(saved[1], dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    net = unet_efficientnet_b3(pretrained=True, allow_download=True, progress=False)
    assert seen == [URL] and (torch_home / FILE_NAME).is_file()
    assert torch.equal(net.encoder._bn0.weight, saved[1]["_bn0.weight"])


def test_a_file_for_another_network_fails_loudly(torch_home, network_calls):
    torch_home.mkdir(parents=True)
    torch.save({"_conv_stem.weight": torch.zeros(32, 3, 3, 3)}, torch_home / FILE_NAME)  # a B0 stem
    with pytest.raises(ValueError, match=r"not an EfficientNet-B3 .*\(32, 3, 3, 3\)"):
        unet_efficientnet_b3(pretrained=True)


def test_architecture_is_batch_norm_unet_with_decoder_dropout():
    net = unet_efficientnet_b3(in_channels=1, out_channels=1, dropout=0.3, upsample="deconv")
    assert isinstance(net, FlexibleUNet) and net.backbone == "efficientnet-b3"
    dropouts = [m.p for m in net.decoder.modules() if isinstance(m, nn.Dropout2d | nn.Dropout)]
    assert dropouts and set(dropouts) == {0.3}
    assert any(isinstance(m, nn.BatchNorm2d) for m in net.decoder.modules())
    assert any(isinstance(m, nn.ConvTranspose2d) for m in net.decoder.modules())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dropout": 1.0}, r"^dropout must be in \[0, 1\), got 1\.0\.$"),
        ({"in_channels": 0}, r"^in_channels and out_channels must be >= 1, got 0 and 1\.$"),
        ({"out_channels": 0}, r"^in_channels and out_channels must be >= 1, got 1 and 0\.$"),
        ({"bn_momentum": 0.0}, r"^bn_momentum must be in \(0, 1\] or None, got 0\.0\.$"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):  # the whole message: which argument, its value, what is allowed
        unet_efficientnet_b3(**kwargs)


def test_torchscript_export_loads_back_with_same_224_output(grayscale_net, tmp_path):
    """``convert_to_torchscript`` is what MONAI's ``ckpt_export`` calls (scripting, not tracing, by default)."""
    x = torch.rand(1, 1, 224, 224)
    with torch.no_grad():
        expected = grayscale_net(x)
    assert expected.shape == (1, 1, 224, 224)
    convert_to_torchscript(grayscale_net, filename_or_obj=tmp_path / "model.ts")
    loaded = torch.jit.load(tmp_path / "model.ts")
    with torch.no_grad():
        assert torch.allclose(loaded(x), expected, atol=1e-5)


def test_bn_momentum_is_pytorch_default_unless_asked():
    """MONAI's EfficientNet uses TF's 0.99 (PyTorch 0.01), which leaves eval-mode stats stale when training from
    scratch; the factory sets PyTorch's 0.1 on every batch-norm layer, and None keeps MONAI's values."""
    import torch

    from monai_cbis.networks import unet_efficientnet_b3

    moms = {m.momentum for m in unet_efficientnet_b3().modules() if isinstance(m, torch.nn.BatchNorm2d)}
    assert moms == {0.1}
    kept = {m.momentum for m in unet_efficientnet_b3(bn_momentum=None).modules() if isinstance(m, torch.nn.BatchNorm2d)}
    assert 0.01 in kept
