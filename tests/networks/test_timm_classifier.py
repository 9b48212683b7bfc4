"""timm_classifier: offline ImageNet loading from a saved state dict, heads, output shapes, trainable layers.

Each architecture is built once per module (``loaded``): a random timm model with its ImageNet head is saved under
the expected file name in a temporary TORCH_HOME, then loaded back as a grayscale classifier.
"""

from __future__ import annotations

import pytest
import timm
import torch
from safetensors.torch import save_file
from scratch import scratch_dir
from torch import nn

from monai_cbis.networks import (
    ARCHITECTURES,
    PAPER_B_TRAINABLE_LAYERS,
    PretrainedWeightsNotFoundError,
    TimmClassifier,
    timm_classifier,
)

FEATURES = {"vgg16": 512, "vgg16_bn": 512, "resnet50": 2048, "densenet121": 1024, "mobilenetv2": 1280, "vit_b16": 768}


def save_reference(name: str, path, **kwargs) -> dict[str, torch.Tensor]:
    """Save a random timm ``name`` (3 channels, 1000 classes: the real file's layout) as safetensors."""
    torch.manual_seed(0)
    state = timm.create_model(name, pretrained=False, **kwargs).state_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    return state


@pytest.fixture(scope="module", params=list(ARCHITECTURES))
def loaded(request, tmp_path_factory):
    arch = request.param
    name = ARCHITECTURES[arch]
    home = scratch_dir(request, tmp_path_factory, f"torch_home_{arch}")
    state = save_reference(name, home / "hub" / "checkpoints" / f"{name}.safetensors")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TORCH_HOME", str(home))
        net = timm_classifier(arch, num_classes=2, in_chans=1, pretrained=True)
    first_conv = timm.models.get_pretrained_cfg(name).first_conv + ".weight"
    backbone_keys = set(net.backbone.state_dict())
    return arch, net, first_conv, {k: v for k, v in state.items() if k in backbone_keys}


def test_pretrained_backbone_equals_saved_file(loaded):
    arch, net, first_conv, state = loaded
    backbone = net.backbone.state_dict()
    assert len(state) == len(backbone)  # every backbone tensor was in the file (VGG's fc6/fc7 are dropped)
    for key, value in state.items():
        if key != first_conv:
            assert torch.equal(backbone[key], value), key


def test_grayscale_stem_is_rgb_sum_of_saved_stem(loaded):
    arch, net, first_conv, state = loaded
    stem = net.backbone.state_dict()[first_conv]
    assert stem.shape[1] == 1
    assert torch.allclose(stem, state[first_conv].sum(dim=1, keepdim=True), atol=1e-5)


def test_224_logits_and_paper_head(loaded):
    arch, net, _, _ = loaded
    net.eval()
    with torch.no_grad():
        out = net(torch.rand(1, 1, 224, 224))
    assert out.shape == (1, 2) and torch.isfinite(out).all()
    assert net.num_features == FEATURES[arch]
    kinds = [type(m) for m in net.head]
    assert kinds == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    assert (net.head[0].in_features, net.head[0].out_features, net.head[2].p) == (FEATURES[arch], 256, 0.5)


def _params(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def expected_trainable_backbone(arch: str, backbone: nn.Module, n: int) -> int:
    """The backbone parameters the last ``n`` groups hold, counted from the architecture itself."""
    if arch.startswith("vgg"):  # one group per convolution, and per batch norm in vgg16_bn
        layers = [m for m in backbone.features if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
        return _params(*layers[len(layers) - n :])
    if arch == "resnet50":
        blocks = [b for layer in (backbone.layer1, backbone.layer2, backbone.layer3, backbone.layer4) for b in layer]
        return _params(*blocks[len(blocks) - n :])
    if arch == "densenet121":  # norm5 is the last group; the transitions ride with the dense layer before them
        layers = list(backbone.features.denseblock4.children())
        return _params(backbone.features.norm5, *layers[len(layers) - (n - 1) :])
    if arch == "mobilenetv2":  # the head conv and its norm belong to the last block
        blocks = [b for stage in backbone.blocks for b in stage]
        return _params(backbone.conv_head, backbone.bn2, *blocks[len(blocks) - n :])
    blocks = list(backbone.blocks)  # vit_b16: the final norm belongs to the last block
    return _params(backbone.norm, *blocks[len(blocks) - n :]) if n else 0


CASES = {"vgg16": 6, "vgg16_bn": 12, "resnet50": 3, "densenet121": 15, "mobilenetv2": 13, "vit_b16": 1}


def test_trainable_layers_freezes_what_it_says(loaded):
    arch, net, _, _ = loaded
    n = CASES[arch]
    head = _params(net.head)
    try:
        net.set_trainable_layers(n)
        trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
        assert trainable == head + expected_trainable_backbone(arch, net.backbone, n)
        net.set_trainable_layers(0)
        assert sum(p.numel() for p in net.parameters() if p.requires_grad) == head
        net.set_trainable_layers(None)
        assert all(p.requires_grad for p in net.parameters())
        with pytest.raises(ValueError, match=rf"\[0, {len(net.backbone_groups())}\].*got 999"):
            net.set_trainable_layers(999)
    finally:
        net.set_trainable_layers(None)


def test_paper_b_table_fits_every_architecture(loaded):
    arch, net, _, _ = loaded
    assert 0 <= PAPER_B_TRAINABLE_LAYERS[arch] <= len(net.backbone_groups())


def test_frozen_batch_norm_keeps_statistics_and_weights():
    torch.manual_seed(0)
    net = timm_classifier("resnet50", in_chans=1, trainable_layers=3)
    frozen_bn, live_bn = net.backbone.layer3[5].bn1, net.backbone.layer4[0].bn1
    frozen_conv = net.backbone.layer1[0].conv1.weight.detach().clone()
    before = frozen_bn.running_mean.clone(), live_bn.running_mean.clone()
    net.train()
    assert not frozen_bn.training and live_bn.training
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.1)
    net(torch.rand(2, 1, 64, 64)).sum().backward()
    opt.step()
    assert net.backbone.layer1[0].conv1.weight.grad is None
    assert torch.equal(net.backbone.layer1[0].conv1.weight, frozen_conv)
    assert torch.equal(frozen_bn.running_mean, before[0]) and not torch.equal(live_bn.running_mean, before[1])


def test_plain_linear_head():
    net = timm_classifier("mobilenetv2", num_classes=3, head_hidden=0, dropout=0.2)
    assert isinstance(net, TimmClassifier)
    assert [type(m) for m in net.head] == [nn.Dropout, nn.Linear]
    assert (net.head[1].in_features, net.head[1].out_features, net.head[0].p) == (1280, 3, 0.2)
    assert net(torch.rand(1, 3, 64, 64)).shape == (1, 3)


def test_head_norm_puts_batch_norm_after_the_hidden_dense_layer():
    net = timm_classifier("mobilenetv2", head_hidden=32, head_norm=True)
    assert [type(m) for m in net.head] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout, nn.Linear]
    assert net(torch.rand(2, 3, 64, 64)).shape == (2, 2)
    with pytest.raises(ValueError, match="head_norm=True needs a hidden dense layer"):
        timm_classifier("mobilenetv2", head_hidden=0, head_norm=True)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_missing_file_names_the_exact_path_and_stays_offline(arch, torch_home, network_calls):
    with pytest.raises(PretrainedWeightsNotFoundError) as info:
        timm_classifier(arch, pretrained=True)
    path = torch_home / f"{ARCHITECTURES[arch]}.safetensors"
    assert str(path) in str(info.value) and f"timm/{ARCHITECTURES[arch]}" in str(info.value)
    assert network_calls == []


def test_weights_path_with_rgb_input_loads_exactly(tmp_path, torch_home, network_calls):
    path = tmp_path / "my_mobilenet.safetensors"
    state = save_reference("mobilenetv2_100.ra_in1k", path)
    net = timm_classifier("mobilenetv2", pretrained=True, weights_path=path)
    assert torch.equal(net.backbone.conv_stem.weight, state["conv_stem.weight"])
    assert torch.equal(net.backbone.blocks[6][0].conv_pwl.weight, state["blocks.6.0.conv_pwl.weight"])
    assert network_calls == [] and not torch_home.exists()


def test_a_file_for_another_model_fails_loudly(torch_home, network_calls):
    save_reference("resnet50.tv_in1k", torch_home / "mobilenetv2_100.ra_in1k.safetensors")
    with pytest.raises(RuntimeError, match=r"Cannot load .*mobilenetv2_100\.ra_in1k\.safetensors"):
        timm_classifier("mobilenetv2", pretrained=True)


def test_allow_download_fetches_from_the_hub(tmp_path, torch_home, monkeypatch):
    blob = tmp_path / "blob.safetensors"
    state = save_reference("mobilenetv2_100.ra_in1k", blob)
    seen = []

    def fake_hf(repo_id, filename, **kwargs):
        seen.append((repo_id, filename))
        return str(blob)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_hf)
    net = timm_classifier("mobilenetv2", pretrained=True, allow_download=True)
    assert seen == [("timm/mobilenetv2_100.ra_in1k", "model.safetensors")]
    assert (torch_home / "mobilenetv2_100.ra_in1k.safetensors").is_file()
    assert torch.equal(net.backbone.bn2.weight, state["bn2.weight"])


def test_unknown_arch_lists_the_options():
    with pytest.raises(ValueError) as info:
        timm_classifier("efficientnet_b0")
    assert "'efficientnet_b0'" in str(info.value)
    assert all(f"'{arch}'" in str(info.value) for arch in ARCHITECTURES)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dropout": 1.0}, "dropout"),
        ({"num_classes": 0}, "num_classes"),
        ({"head_hidden": -1}, "head_hidden"),
        ({"weights_path": "w.safetensors"}, "pretrained=True"),
        ({"trainable_layers": -1}, "got -1"),
        ({"trainable_layers": 2.5}, "got 2.5"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        timm_classifier("mobilenetv2", **kwargs)


def test_torchscript_export_loads_back(tmp_path):
    net = timm_classifier("mobilenetv2", in_chans=1, trainable_layers=2).eval()
    x = torch.rand(2, 1, 64, 64)
    torch.jit.save(torch.jit.script(net), tmp_path / "classifier.ts")
    loaded = torch.jit.load(tmp_path / "classifier.ts")
    with torch.no_grad():
        assert torch.allclose(loaded(x), net(x), atol=1e-6)
