"""PrepareBatchAugment: MONAI's default_prepare_batch after the batch augmentation ran on the augmentation device;
without one, exactly MONAI's default."""

from __future__ import annotations

import pytest
import torch
from monai.engines import default_prepare_batch

from monai_cbis.engines import PrepareBatchAugment
from monai_cbis.transforms import RandBatchAugmentd

DEVICES = ["cpu"] + (["cuda:0"] if torch.cuda.is_available() else [])
GEOMETRY = {"rotate_prob": 1.0, "flip_prob": 0.5, "zoom_prob": 0.5, "intensity_prob": 0.5}


def batch(n: int = 4) -> dict:
    image = torch.rand(n, 1, 16, 12)
    return {"image": image, "label": (image > 0.5).float(), "laterality": ["LEFT"] * n}


def augment():
    return RandBatchAugmentd(["image", "label"], mode=["bilinear", "nearest"], **GEOMETRY)


def test_without_an_augmentation_it_is_monais_default():
    b = batch()
    for ours, theirs in zip(PrepareBatchAugment()(b, "cpu"), default_prepare_batch(b, "cpu"), strict=True):
        assert torch.equal(ours, theirs)


@pytest.mark.parametrize("device", DEVICES)
def test_augments_on_the_device_and_the_seed_repeats_the_draws(device):
    b = batch()
    original = b["image"].clone()
    image, label = PrepareBatchAugment(augment(), device=device, seed=3)(b, torch.device(device))
    assert image.device == torch.device(device) and label.device == torch.device(device)
    assert image.shape == b["image"].shape and not torch.equal(image.cpu(), b["image"])
    assert set(label.unique().tolist()) <= {0.0, 1.0}  # masks stay masks (nearest)
    again, _ = PrepareBatchAugment(augment(), device=device, seed=3)(b, torch.device(device))
    other, _ = PrepareBatchAugment(augment(), device=device, seed=4)(b, torch.device(device))
    assert torch.equal(image, again) and not torch.equal(image, other)
    assert torch.equal(b["image"], original)  # the loader's batch is not written into


def test_under_torchrun_each_rank_draws_its_own_and_uses_its_own_gpu(monkeypatch):
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_rank", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LOCAL_RANK", "1")
    seen = {}

    def record(data):
        seen["device"] = data["image"].device
        return data

    record.set_random_state = lambda seed: seen.setdefault("seed", seed)
    prepare = PrepareBatchAugment(record, device="cuda:0", seed=10)
    prepare._place()
    assert prepare.device == torch.device("cuda:1") and seen["seed"] == 11


def test_a_batch_that_is_not_a_dict_is_a_clear_error():
    with pytest.raises(TypeError, match="augments dict batches, got tuple"):
        PrepareBatchAugment(augment())((torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)), "cpu")
