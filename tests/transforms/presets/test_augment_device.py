"""The presets' ``augment_device`` switch: the item pipeline stays deterministic (cached whole, shared with the CPU
path and validation), the augmentation becomes one RandBatchAugmentd with the preset's settings, and a training
loader built on it serves plain batches that PrepareBatchAugment augments."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from monai_cbis.engines import PrepareBatchAugment
from monai_cbis.transforms import RandBatchAugmentd, cached_dataset, get_preset, train_loader, transform_fingerprint
from monai_cbis.transforms.cache import _deterministic_prefix
from monai_cbis.transforms.presets.full_mammogram import FullMammogramSettings

CASES = [
    ("full_mammogram", {"image_size": 32}, ["image", "label", "label_index"], ["bilinear", "nearest", "nearest"], (1,)),
    ("roi_crop", {"image_size": 32, "mask_key": "label"}, ["image", "label"], ["bilinear", "nearest"], (0, 1)),
]


@pytest.mark.parametrize("name, kwargs, keys, modes, axes", CASES)
def test_switch_moves_the_augmentation_to_the_batch_and_shares_the_cache(name, kwargs, keys, modes, axes):
    plain = get_preset(name, **kwargs)
    moved = get_preset(name, **kwargs, augment_device="cpu", augment={"zoom_prob": 0.7})
    assert plain.batch is None and list(moved.random.transforms) == []
    (t,) = moved.batch.transforms
    assert isinstance(t, RandBatchAugmentd) and list(t.keys) == keys and list(t.mode) == modes
    assert t.intensity_keys == {"image"} and t.augment.flip_axes == axes and t.augment.zoom_prob == 0.7
    # the whole item pipeline is the cached part, the same as the CPU path's: one cache for both and validation
    assert len(_deterministic_prefix(moved.train())) == len(moved.train().transforms)
    assert transform_fingerprint(moved.train()) == transform_fingerprint(plain.train())
    assert moved.params["augment_device"] == "cpu" and plain.params["augment_device"] is None


def test_a_preset_with_a_final_part_cannot_augment_batches():
    @dataclass(frozen=True)
    class WithFinal(FullMammogramSettings):
        def final_transforms(self) -> list:
            return [lambda d: d]

    with pytest.raises(ValueError, match="augment_device is not supported by the 'full_mammogram' preset"):
        WithFinal(augment_device="cpu").preset()


def test_the_loader_serves_plain_batches_from_memory_and_the_prepare_step_augments(tmp_path, phantom, write_dicom):
    items = []
    for i in range(4):
        ph = phantom(rows=96, cols=64, laterality="RIGHT" if i % 2 else "LEFT", seed=i)
        items.append({"image": write_dicom(tmp_path / f"i{i}.dcm", ph.image),
                      "label": [write_dicom(tmp_path / f"m{i}.dcm", ph.masks[0])],
                      "laterality": "RIGHT" if i % 2 else "LEFT"})  # fmt: skip
    preset = get_preset("full_mammogram", image_size=32, augment_device="cpu", augment={"rotate_prob": 1.0})
    disk = cached_dataset(items, preset.inference(), tmp_path / "cache")
    expected = torch.stack([disk[i]["image"].as_tensor() for i in range(len(items))])
    ds = cached_dataset(items, preset, tmp_path / "cache", in_memory=True)
    assert ds.data.computed == 0 and ds.copy_cache is False  # filled from validation's entries, handed out as held
    (b,) = list(train_loader(ds, batch_size=4, shuffle=False, augment_device="cpu"))
    assert type(b["image"]) is torch.Tensor and torch.equal(b["image"], expected)  # not augmented yet
    image, label = PrepareBatchAugment(preset.batch, device="cpu", seed=0)(b, torch.device("cpu"))
    assert image.shape == (4, 1, 32, 32) and not torch.equal(image, expected)  # every image rotated
    assert set(label.unique().tolist()) <= {0.0, 1.0} and torch.equal(ds._cache[0]["image"].as_tensor(), expected[0])
