"""Where pretrained files are looked for, the missing-file error, and the explicit download path."""

from __future__ import annotations

import pickle

import huggingface_hub
import pytest
import torch

from monai_cbis.networks import ARCHITECTURES
from monai_cbis.networks.weights import (
    PretrainedWeightsNotFoundError,
    efficientnet_weights,
    resolve_weights_file,
    timm_weights,
    weights_dir,
)

B3_URL = "https://github.com/lukemelas/EfficientNet-PyTorch/releases/download/1.0/efficientnet-b3-5fb5a3c3.pth"


def test_weights_dir_follows_torch_home(torch_home):
    assert weights_dir() == torch_home


def test_efficientnet_b3_file_is_monais():
    spec = efficientnet_weights("efficientnet-b3")
    assert (spec.file_name, spec.url, spec.hf_hub_id) == ("efficientnet-b3-5fb5a3c3.pth", B3_URL, None)


def test_efficientnet_unknown_backbone_lists_options():
    with pytest.raises(ValueError, match=r"efficientnet-b9.*'efficientnet-b3'"):
        efficientnet_weights("efficientnet-b9")


@pytest.mark.parametrize("name", sorted(ARCHITECTURES.values()))
def test_timm_file_names(name, torch_home):
    spec = timm_weights(name)
    assert spec.file_name == f"{name}.safetensors"
    assert spec.default_path() == torch_home / f"{name}.safetensors"
    assert (spec.hf_hub_id, spec.hf_filename) == (f"timm/{name}", "model.safetensors")
    assert spec.url == f"https://huggingface.co/timm/{name}/resolve/main/model.safetensors"


@pytest.mark.parametrize("name", ["resnet50", "resnet50.no_such_tag"])
def test_timm_name_needs_a_known_tag(name):
    with pytest.raises(ValueError, match="resnet50"):
        timm_weights(name)


@pytest.mark.parametrize("spec", [efficientnet_weights(), timm_weights("resnet50.tv_in1k")], ids=["b3", "timm"])
def test_missing_file_message_says_what_to_put_where(spec, torch_home, network_calls):
    with pytest.raises(PretrainedWeightsNotFoundError) as info:
        resolve_weights_file(spec)
    message = str(info.value)
    assert str(torch_home / spec.file_name) in message
    assert f"\n    {spec.file_name}\n" in message and f"\n    {torch_home} (the torch hub cache" in message
    assert spec.url in message and "allow_download=True" in message
    assert "pretrained=False" in message and "--use_imagenet_pretrain false" in message
    assert info.value.path == torch_home / spec.file_name and isinstance(info.value, FileNotFoundError)
    assert str(pickle.loads(pickle.dumps(info.value))) == message
    assert network_calls == []


def test_explicit_path_is_used_and_named_when_missing(tmp_path, torch_home, network_calls):
    spec = timm_weights("resnet50.tv_in1k")
    (torch_home).mkdir(parents=True)
    (torch_home / spec.file_name).write_bytes(b"x")  # the default file must not be taken instead
    custom = tmp_path / "mine" / "r50.safetensors"
    with pytest.raises(PretrainedWeightsNotFoundError, match="saved as r50.safetensors") as info:
        resolve_weights_file(spec, weights_path=custom)
    assert str(custom) in str(info.value) and "torch hub cache" not in str(info.value)
    custom.parent.mkdir()
    custom.write_bytes(b"y")
    assert resolve_weights_file(spec, weights_path=custom) == custom
    assert resolve_weights_file(spec) == torch_home / spec.file_name
    assert network_calls == []


def test_allow_download_fetches_url_into_the_cache(torch_home, monkeypatch):
    seen = []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        seen.append((url, dst, hash_prefix))
        torch.save({"k": torch.ones(1)}, dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    path = resolve_weights_file(efficientnet_weights(), allow_download=True, progress=False)
    assert path == torch_home / "efficientnet-b3-5fb5a3c3.pth" and path.is_file()
    assert seen == [(B3_URL, str(path), "5fb5a3c3")]
    assert resolve_weights_file(efficientnet_weights(), allow_download=True) == path and len(seen) == 1


def test_allow_download_fetches_hf_file_under_the_model_name(tmp_path, torch_home, monkeypatch):
    blob = tmp_path / "hf_cache_blob"
    blob.write_bytes(b"safetensors bytes")
    seen = []

    def fake_hf(repo_id, filename, **kwargs):
        seen.append((repo_id, filename))
        return str(blob)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_hf)
    path = resolve_weights_file(timm_weights("densenet121.tv_in1k"), allow_download=True)
    assert path == torch_home / "densenet121.tv_in1k.safetensors"
    assert path.read_bytes() == b"safetensors bytes"
    assert seen == [("timm/densenet121.tv_in1k", "model.safetensors")]


def test_download_refuses_a_name_that_would_be_misread(tmp_path, network_calls):
    with pytest.raises(ValueError, match=r"must end in '\.safetensors'"):
        resolve_weights_file(timm_weights("resnet50.tv_in1k"), weights_path=tmp_path / "r50.pth", allow_download=True)
    assert network_calls == []
