"""Paper B's lesion-crop segmentation networks: roi_unet (MONAI BasicUNet) and deeplabv3plus_resnet50 (smp).

DeepLabV3+'s ImageNet encoder is tested offline like the classifiers: a random timm ``resnet50`` (the real file's
layout) is saved under the expected name in a temporary TORCH_HOME and loaded back; smp's own download entry points
are made to raise as well, since it imports ``hf_hub_download`` by name (out of reach of the conftest guard).
"""

from __future__ import annotations

import pytest
import segmentation_models_pytorch as smp
import timm
import torch
from monai.networks.nets import BasicUNet
from monai.networks.utils import convert_to_torchscript
from safetensors.torch import save_file
from scratch import scratch_dir
from torch import nn

from monai_cbis.networks import PretrainedWeightsNotFoundError, deeplabv3plus_resnet50, roi_unet

FILE_NAME = "resnet50.tv_in1k.safetensors"


@pytest.fixture(autouse=True)
def smp_offline(monkeypatch):
    """smp downloads through its own imported names; any call fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"smp tried to download {args} {kwargs}")

    monkeypatch.setattr("segmentation_models_pytorch.encoders.hf_hub_download", refuse)
    monkeypatch.setattr("segmentation_models_pytorch.base.hub_mixin.hf_hub_download", refuse)


@pytest.fixture(scope="module")
def saved(request, tmp_path_factory):
    """A random timm ResNet-50 with its ImageNet head, as safetensors and as a torch state dict."""
    torch.manual_seed(0)
    state = timm.create_model("resnet50", pretrained=False).state_dict()
    folder = scratch_dir(request, tmp_path_factory, "resnet50_weights")
    save_file(state, str(folder / FILE_NAME))
    # Without num_batches_tracked, as some exported files are: still a complete ResNet-50.
    torch.save({k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}, folder / "resnet50.pth")
    return folder, state


def put_weights(saved, torch_home, name=FILE_NAME):
    torch_home.mkdir(parents=True, exist_ok=True)
    (torch_home / name).write_bytes((saved[0] / name).read_bytes())
    return torch_home / name


def assert_encoder_equals(net, state, skip=()):
    encoder = net.encoder.state_dict()
    assert set(encoder) == {k for k in state if not k.startswith("fc.")}  # strict: the whole ResNet-50, no fc
    for key, value in encoder.items():
        if key not in skip and not key.endswith("num_batches_tracked"):
            assert torch.equal(value, state[key]), key


# roi_unet


def test_roi_unet_logits_shape_and_gradient():
    net = roi_unet()
    out = net(torch.rand(2, 1, 64, 64))
    assert out.shape == (2, 1, 64, 64)
    out.mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
    assert net.conv_0.conv_0.conv.weight.grad.abs().sum() > 0  # reaches the first convolution


def test_roi_unet_is_batch_norm_dropout_deconv_basic_unet():
    net = roi_unet(in_channels=3, out_channels=2, dropout=0.2)
    assert isinstance(net, BasicUNet)
    kinds = {type(m) for m in net.modules()}
    assert {nn.BatchNorm2d, nn.ConvTranspose2d, nn.ReLU, nn.Dropout} <= kinds
    assert nn.InstanceNorm2d not in kinds and nn.LeakyReLU not in kinds  # not BasicUNet's own defaults
    assert {m.p for m in net.modules() if isinstance(m, nn.Dropout)} == {0.2}
    assert net.conv_0.conv_0.conv.in_channels == 3 and net.final_conv.out_channels == 2


def test_roi_unet_features_override_defaults():
    assert roi_unet().down_4.convs.conv_0.conv.out_channels == 256  # MONAI's default (32, 32, 64, 128, 256, 32)
    net = roi_unet(features=(8, 8, 16, 32, 64, 8))
    assert net.down_4.convs.conv_0.conv.out_channels == 64 and net.final_conv.in_channels == 8
    assert net(torch.rand(1, 1, 48, 48)).shape == (1, 1, 48, 48)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"features": (32, 64)}, r"six positive ints.*\(32, 64\)"),
        ({"features": (32, 32, 64, 128, 0, 32)}, "six positive ints"),
        ({"dropout": 1.0}, "dropout"),
        ({"in_channels": 0}, "got 0"),
        ({"norm": "nonorm"}, "Available options"),
    ],
)
def test_roi_unet_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        roi_unet(**kwargs)


# deeplabv3plus_resnet50


def test_deeplab_logits_shape_and_gradient(network_calls):
    torch.manual_seed(0)
    net = deeplabv3plus_resnet50()
    assert isinstance(net, smp.DeepLabV3Plus) and isinstance(net.encoder, smp.encoders.resnet.ResNetEncoder)
    assert net.encoder.output_stride == 16 and len(net.encoder.layer4) == 3  # ResNet-50, dilated last stage
    out = net(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, 1, 64, 64)
    out.mean().backward()
    assert net.encoder.conv1.weight.grad.abs().sum() > 0 and net.segmentation_head[0].weight.grad is not None
    assert network_calls == []


def test_deeplab_training_needs_batches_of_two():
    """The ASPP pooling branch batch-normalises a 1x1 map: a training batch of one fails (train with drop_last)."""
    net = deeplabv3plus_resnet50()
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        net(torch.rand(1, 3, 32, 32))
    with torch.no_grad():
        assert net.eval()(torch.rand(1, 3, 32, 32)).shape == (1, 1, 32, 32)  # inference is fine


@pytest.mark.parametrize("in_channels, out_channels, stride", [(1, 2, 16), (3, 1, 8)])
def test_deeplab_channels_and_output_stride(in_channels, out_channels, stride):
    net = deeplabv3plus_resnet50(in_channels, out_channels, encoder_output_stride=stride).eval()
    with torch.no_grad():
        assert net(torch.rand(1, in_channels, 64, 64)).shape == (1, out_channels, 64, 64)
    assert net.encoder.conv1.in_channels == in_channels and net.encoder.output_stride == stride


def test_missing_file_names_the_exact_path_and_stays_offline(torch_home, network_calls):
    with pytest.raises(PretrainedWeightsNotFoundError) as info:
        deeplabv3plus_resnet50(pretrained=True)
    assert str(torch_home / FILE_NAME) in str(info.value) and "timm/resnet50.tv_in1k" in str(info.value)
    assert network_calls == [] and not torch_home.exists()


def test_pretrained_encoder_equals_saved_safetensors(saved, torch_home, network_calls):
    put_weights(saved, torch_home)
    net = deeplabv3plus_resnet50(pretrained=True)
    state = saved[1]
    assert_encoder_equals(net, state)
    assert torch.equal(net.encoder.conv1.weight, state["conv1.weight"])
    assert torch.equal(net.encoder.layer4[2].conv3.weight, state["layer4.2.conv3.weight"])
    assert network_calls == []


def test_weights_path_reads_a_torch_state_dict(saved, torch_home, network_calls):
    path = put_weights(saved, torch_home, "resnet50.pth")
    net = deeplabv3plus_resnet50(pretrained=True, weights_path=path)
    assert_encoder_equals(net, saved[1])
    assert torch.equal(net.encoder.layer4[0].downsample[1].running_var, saved[1]["layer4.0.downsample.1.running_var"])


def test_grayscale_stem_is_rgb_sum_of_saved_stem(saved, torch_home):
    put_weights(saved, torch_home)
    net = deeplabv3plus_resnet50(in_channels=1, pretrained=True)
    stem = saved[1]["conv1.weight"]
    assert net.encoder.conv1.weight.shape == (64, 1, 7, 7)
    assert torch.allclose(net.encoder.conv1.weight, stem.sum(dim=1, keepdim=True), atol=1e-6)
    assert_encoder_equals(net, saved[1], skip={"conv1.weight"})


def test_a_file_for_another_model_fails_loudly(torch_home):
    torch_home.mkdir(parents=True)
    save_file(timm.create_model("resnet18", pretrained=False).state_dict(), str(torch_home / FILE_NAME))
    with pytest.raises(RuntimeError, match=r"Cannot load .*resnet50\.tv_in1k\.safetensors") as info:
        deeplabv3plus_resnet50(pretrained=True)
    message = str(info.value)
    assert "missing (e.g. layer1.0.conv3.weight" in message and "wrong shape (e.g. layer1.0.conv1.weight" in message
    assert len(message) < 1000  # a summary, not every key


def test_a_file_with_extra_keys_fails_loudly(saved, torch_home):
    torch_home.mkdir(parents=True)
    save_file({**saved[1], "head.weight": torch.zeros(2)}, str(torch_home / FILE_NAME))
    with pytest.raises(RuntimeError, match=r"1 unexpected \(e\.g\. head\.weight\)"):
        deeplabv3plus_resnet50(pretrained=True)


def test_an_unreadable_file_fails_with_its_name(torch_home):
    torch_home.mkdir(parents=True)
    (torch_home / FILE_NAME).write_bytes(b"not a weights file")
    with pytest.raises(RuntimeError, match=r"Cannot read weights file .*resnet50\.tv_in1k\.safetensors"):
        deeplabv3plus_resnet50(pretrained=True)


def test_allow_download_goes_through_the_explicit_flag(saved, torch_home, monkeypatch):
    seen = []

    def fake_hf(repo_id, filename, **kwargs):
        seen.append((repo_id, filename))
        return str(saved[0] / FILE_NAME)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_hf)
    net = deeplabv3plus_resnet50(pretrained=True, allow_download=True)
    assert seen == [("timm/resnet50.tv_in1k", "model.safetensors")] and (torch_home / FILE_NAME).is_file()
    assert torch.equal(net.encoder.bn1.weight, saved[1]["bn1.weight"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"encoder_output_stride": 32}, r"32.*\[8, 16\]"),
        ({"encoder_weights": "imagenet"}, r"\['encoder_weights'\].*decoder_channels"),
        ({"decoder_chanels": 128}, "decoder_chanels"),
        ({"weights_path": "w.safetensors"}, "pretrained=True"),
        ({"out_channels": 0}, "got 3 and 0"),
    ],
)
def test_deeplab_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        deeplabv3plus_resnet50(**kwargs)


# TorchScript: MONAI's ckpt_export calls convert_to_torchscript, which scripts (tracing only with --use_trace)


@pytest.mark.parametrize("factory", [roi_unet, deeplabv3plus_resnet50])
def test_torchscript_export_loads_back_with_same_output(factory, tmp_path):
    torch.manual_seed(0)
    net = factory(in_channels=1, out_channels=1).eval()
    x = torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        expected = net(x)
    convert_to_torchscript(net, filename_or_obj=tmp_path / "model.ts")
    loaded = torch.jit.load(tmp_path / "model.ts")
    with torch.no_grad():
        assert torch.allclose(loaded(x), expected, atol=1e-5)


def test_deeplab_can_also_be_traced():
    net = deeplabv3plus_resnet50().eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        traced = torch.jit.trace(net, x, check_trace=False)  # the check re-runs the net; compared below instead
        assert torch.allclose(traced(torch.ones_like(x)), net(torch.ones_like(x)), atol=1e-5)
