"""The detector factory: MONAI's 2-D RetinaNet on torchvision's ResNet-50, offline ImageNet weights, the detector's
settings, and a TorchScript export of the network (as the lung-nodule bundle ships it)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torchvision.models import resnet50

from monai_cbis.networks import (
    PretrainedWeightsNotFoundError,
    pyramid_scales,
    resnet50_backbone,
    retinanet_2d,
    retinanet_detector,
)


@pytest.fixture(scope="module")
def small_net():
    torch.manual_seed(0)
    return retinanet_2d(num_classes=2, returned_layers=(1, 2))


def test_network_outputs_one_map_per_level_and_detector_boxes(small_net):
    small_net.eval()
    with torch.no_grad():
        out = small_net(torch.rand(1, 1, 64, 96))
    assert len(out["classification"]) == 3  # layers 1, 2 and the pooled extra level
    assert out["classification"][0].shape == (1, 3 * 2, 16, 24)
    assert out["box_regression"][0].shape == (1, 3 * 4, 16, 24)
    det = retinanet_detector(small_net, anchor_sizes=((8, 8), (16, 16), (32, 32)), feature_map_scales=(1, 2, 4))
    det.eval()
    with torch.no_grad():
        pred = det([torch.rand(1, 64, 90)])[0]  # padded inside to a multiple of size_divisible
    assert pred["box"].shape[1] == 4 and pred["box"].shape[0] == pred["label_scores"].shape[0] <= 100
    assert pred["box"].shape[0] == 0 or (float(pred["box"][:, 2].max()) <= 64 and float(pred["box"][:, 3].max()) <= 90)


def test_detector_trains_one_step(small_net):
    det = retinanet_detector(small_net, anchor_sizes=((8, 8), (16, 16), (32, 32)), feature_map_scales=(1, 2, 4))
    det.train()
    targets = [{"box": torch.tensor([[10.0, 10.0, 30.0, 26.0]]), "label": torch.tensor([1])}]
    losses = det([torch.rand(1, 64, 64)], targets)
    assert set(losses) == {"classification", "box_regression"}
    (losses["classification"] + losses["box_regression"]).backward()
    assert small_net.feature_extractor.body.conv1.weight.grad is not None


def test_anchor_levels_follow_the_networks_pyramid(small_net):
    """Without feature_map_scales the detector reads the levels from the network: one anchor map per level."""
    assert pyramid_scales(small_net) == [1, 2, 4]
    coarse = retinanet_2d(num_classes=2, returned_layers=(2, 3, 4))
    assert pyramid_scales(coarse) == [1, 2, 4, 8]
    det = retinanet_detector(coarse, anchor_sizes=((8, 8), (16, 16), (32, 32)))
    assert len(det.anchor_generator.cell_anchors) == 4  # one set of anchors per level
    with pytest.raises(TypeError, match="feature_map_scales"):
        pyramid_scales(torch.nn.Conv2d(1, 1, 1))


def test_anchor_count_must_match_the_network(small_net):
    with pytest.raises(ValueError, match="anchors"):
        retinanet_detector(small_net, anchor_sizes=((8, 8), (16, 16)))


def test_missing_weights_name_file_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(PretrainedWeightsNotFoundError, match="resnet50.tv_in1k.safetensors"):
        retinanet_2d(pretrained=True)


def test_pretrained_weights_load_offline_and_grey_stem_sums_rgb(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.manual_seed(1)
    state = resnet50(weights=None).state_dict()
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "resnet50.tv_in1k.safetensors"))
    net = resnet50_backbone(in_channels=1, pretrained=True)
    assert torch.allclose(net.conv1.weight, state["conv1.weight"].sum(dim=1, keepdim=True))
    assert torch.equal(net.layer4[2].conv3.weight, state["layer4.2.conv3.weight"])
    assert net.in_planes == 2048


def test_network_exports_to_torchscript(small_net, tmp_path):
    small_net.eval()
    scripted = torch.jit.script(small_net)
    path = tmp_path / "model.ts"
    scripted.save(str(path))
    x = torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        a, b = small_net(x), torch.jit.load(str(path))(x)
    assert torch.allclose(a["classification"][0], b["classification"][0], atol=1e-5)
