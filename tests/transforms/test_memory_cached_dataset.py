"""memory_cached_dataset: the persistent cache held in memory, the random part run per item; and the
metadata-free training collate."""

from __future__ import annotations

import torch
from monai.data import DataLoader, MetaTensor

from monai_cbis.transforms import cached_dataset, collate_without_meta, get_preset


def _items(tmp_path, phantom, write_dicom, n=3):
    items = []
    for i in range(n):
        ph = phantom(rows=96, cols=64, laterality="RIGHT" if i % 2 else "LEFT", seed=i)
        items.append({"image": write_dicom(tmp_path / f"i{i}.dcm", ph.image),
                      "label": [write_dicom(tmp_path / f"m{i}.dcm", ph.masks[0])],
                      "laterality": "RIGHT" if i % 2 else "LEFT"})  # fmt: skip
    return items


def test_filled_from_the_disk_cache_then_served_from_memory(tmp_path, phantom, write_dicom):
    items = _items(tmp_path, phantom, write_dicom)
    preset = get_preset("full_mammogram", image_size=32, augment_backend="opencv", augment={"rotate_prob": 1.0})
    disk = cached_dataset(items, preset.inference(), tmp_path / "cache")
    expected = [disk[i] for i in range(len(items))]  # entries written by "validation"
    ds = cached_dataset(items, preset, tmp_path / "cache", in_memory=True)
    assert ds.copy_cache is False  # the OpenCV augmentation never writes into the cached item
    assert ds.data.computed == 0 and len(ds) == len(items)  # filled from the entries above, none recomputed
    for i, cached in enumerate(ds._cache):
        assert torch.equal(cached["image"], expected[i]["image"])
    first, again = ds[0], ds[0]
    assert isinstance(first["image"], MetaTensor) and first["image"].shape == (1, 32, 32)
    assert not torch.equal(first["image"], again["image"])  # a new draw per access
    assert torch.equal(ds._cache[0]["image"], expected[0]["image"])  # the held item is untouched


def test_other_random_parts_keep_monais_defensive_copy(tmp_path, phantom, write_dicom):
    items = _items(tmp_path, phantom, write_dicom, n=1)
    ds = cached_dataset(items, get_preset("full_mammogram", image_size=32), tmp_path / "cache", in_memory=True)
    assert ds.copy_cache is True and ds[0]["image"].shape == (1, 32, 32)


def test_collate_without_meta_in_a_worker_loader(tmp_path, phantom, write_dicom):
    items = _items(tmp_path, phantom, write_dicom)
    preset = get_preset("full_mammogram", image_size=32, augment_backend="opencv")
    ds = cached_dataset(items, preset, tmp_path / "cache", in_memory=True)
    batches = list(DataLoader(ds, batch_size=2, num_workers=1, collate_fn=collate_without_meta))
    assert [type(b["image"]) for b in batches] == [torch.Tensor, torch.Tensor]
    assert [b["label"].shape[0] for b in batches] == [2, 1] and batches[0]["laterality"] == ["LEFT", "RIGHT"]
