"""AugmentOnDeviced and the presets' ``augment_device`` switch: the augmentation moves, the cache does not."""

from __future__ import annotations

import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import RandFlipd

from monai_cbis.transforms import AugmentOnDeviced, cached_dataset, get_preset, transform_fingerprint
from monai_cbis.transforms.cache import _deterministic_prefix

DEVICES = ["cpu"] + (["cuda:0"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_moves_tensors_keeps_metadata_and_other_values(device):
    image = MetaTensor(torch.rand(1, 4, 5), meta={"filename_or_obj": "a.dcm"})
    out = AugmentOnDeviced(["image", "label"], device=device, allow_missing_keys=True)(
        {"image": image, "laterality": "LEFT"}
    )
    assert out["image"].device == torch.device(device) and isinstance(out["image"], MetaTensor)
    assert out["image"].meta["filename_or_obj"] == "a.dcm" and out["laterality"] == "LEFT" and "label" not in out
    with pytest.raises(Exception, match="label"):  # a key the item lacks is an error unless allowed
        AugmentOnDeviced(["label"], device=device)({"image": image})


def test_caches_stop_before_the_move():
    steps = [AugmentOnDeviced(["image"], device="cpu"), RandFlipd(["image"], prob=1.0, spatial_axis=0)]
    assert _deterministic_prefix(steps) == []


@pytest.mark.parametrize(
    "name, kwargs",
    [("full_mammogram", {"image_size": 32}), ("roi_crop", {"image_size": 32, "mask_key": "label"})],
)
def test_switch_puts_the_move_first_in_the_random_part_and_shares_the_cache(name, kwargs):
    plain, moved = get_preset(name, **kwargs), get_preset(name, **kwargs, augment_device="cpu")
    first = moved.random.transforms[0]
    assert isinstance(first, AugmentOnDeviced) and first.device == torch.device("cpu")
    assert set(first.keys) == set(moved.deterministic.transforms[-1].keys)  # every key the output carries
    assert [type(t) for t in moved.random.transforms[1:]] == [type(t) for t in plain.random.transforms]
    assert not any(isinstance(t, AugmentOnDeviced) for t in plain.random.transforms)
    # the cached part is the same, so the CPU and device runs (and validation) share one cache
    assert transform_fingerprint(moved.train()) == transform_fingerprint(plain.train())
    assert len(_deterministic_prefix(moved.train())) == len(plain.deterministic.transforms)
    assert moved.params["augment_device"] == "cpu" and plain.params["augment_device"] is None


@pytest.mark.parametrize("device", DEVICES)
def test_train_pipeline_runs_from_the_cache_on_the_device(tmp_path, phantom, write_dicom, device):
    items = []
    for i, side in enumerate(["LEFT", "RIGHT"]):
        ph = phantom(rows=96, cols=64, laterality=side, seed=i)
        items.append({"image": write_dicom(tmp_path / f"i{i}.dcm", ph.image),
                      "label": [write_dicom(tmp_path / f"m{i}.dcm", ph.masks[0])], "laterality": side})  # fmt: skip
    preset = get_preset("full_mammogram", image_size=32, augment_device=device, augment={"rotate_prob": 1.0})
    warm = cached_dataset(items, preset.inference(), tmp_path / "cache")
    [warm[i] for i in range(len(items))]
    train = cached_dataset(items, preset.train(), tmp_path / "cache")
    out = [train[i] for i in range(len(items))]
    assert train.computed == 0  # served from the entries validation wrote
    for item in out:
        assert item["image"].device == torch.device(device) and tuple(item["image"].shape) == (1, 32, 32)
        assert item["image"].dtype == torch.float32 and set(item["label"].unique().tolist()) <= {0.0, 1.0}
        assert "RandRotated" in [op["class"] for op in item["image"].applied_operations]  # it ran there


def test_under_torchrun_a_gpu_means_this_ranks_own_gpu(monkeypatch):
    from monai_cbis.transforms.device import rank_device

    assert rank_device("cuda:0") == torch.device("cuda:0")  # no process group: as given
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert rank_device("cuda:0") == torch.device("cuda:1") and rank_device("cpu") == torch.device("cpu")
    move = AugmentOnDeviced(["image"], device="cuda:0", allow_missing_keys=True)
    assert move({"laterality": "LEFT"}) == {"laterality": "LEFT"}  # nothing to move, the target is now set
    assert move.converter.device == torch.device("cuda:1")
