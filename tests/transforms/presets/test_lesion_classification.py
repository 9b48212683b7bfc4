"""The lesion-classification preset (paper B's classifiers) on synthetic CBIS-DDSM files."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from monai.data import DataLoader, Dataset
from monai.transforms import NormalizeIntensityd, RandomizableTrait
from scratch import scratch_dir

from monai_cbis.data.synthetic import make_synthetic_cbis
from monai_cbis.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    cached_dataset,
    lesion_classification_transforms,
)

MEAN = torch.tensor(IMAGENET_MEAN)[:, None, None]
STD = torch.tensor(IMAGENET_STD)[:, None, None]


@pytest.fixture(scope="module")
def items(request, tmp_path_factory):
    coll = make_synthetic_cbis(scratch_dir(request, tmp_path_factory, "cbis_cls"), layout="classic", cases=8, seed=0)
    rows = [r for r in coll.rows if not r.mask_wrong_size][:6]
    return [
        {"image": r.full_image, "mask": r.mask, "label": int(r.pathology == "MALIGNANT"), "pathology": r.pathology}
        for r in rows
    ]


@pytest.fixture(scope="module")
def preset():
    return lesion_classification_transforms()


def _mask_box(path) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` of the lesion in a mask file, in the package's (x, y) order (ends exclusive)."""
    import pydicom

    xs, ys = np.nonzero(pydicom.dcmread(path).pixel_array.T > 127)
    return np.array([xs.min(), ys.min()]), np.array([xs.max() + 1, ys.max() + 1])


def _cause_matches(pattern: str, fn, *args) -> None:
    """``fn(*args)`` raises, through MONAI's ``Compose`` wrapper (a RuntimeError), a ValueError matching ``pattern``."""
    with pytest.raises(RuntimeError, match="applying transform") as info:
        fn(*args)
    cause = info.value.__cause__
    assert isinstance(cause, ValueError) and re.search(pattern, str(cause)), repr(cause)


def _grey(img: torch.Tensor) -> torch.Tensor:
    """Undo the ImageNet normalisation: the [0, 1] image in each of the three channels."""
    return img.as_tensor() * STD + MEAN


def test_inference_output(items, preset):
    item = items[0]
    out = preset.inference()(dict(item))
    img = out["image"]
    assert tuple(img.shape) == (3, 224, 224) and img.dtype == torch.float32
    grey = _grey(img)
    assert float(grey.min()) >= -1e-5 and float(grey.max()) <= 1 + 1e-5
    assert torch.allclose(grey[0], grey[1], atol=1e-5) and torch.allclose(grey[0], grey[2], atol=1e-5)
    assert "mask" not in out and out["pathology"] == item["pathology"]  # the mask is dropped, the rest passes
    assert out["label"].dtype == torch.int64 and out["label"].shape == () and int(out["label"]) == item["label"]
    start, end = _mask_box(item["mask"])  # the lesion plus 64 px, grown to a square
    assert np.all(out["roi_start"] <= np.maximum(start - 64, 0)) and np.all(out["roi_end"] >= end + 64)
    size = out["roi_end"] - out["roi_start"]
    assert size[0] == size[1]
    assert [op["class"] for op in img.applied_operations] == ["CropByROI", "FastResize"]


def test_batch_has_int64_labels_of_shape_b(items, preset):
    batch = next(iter(DataLoader(Dataset(items[:4], preset.inference()), batch_size=4, num_workers=0)))
    assert tuple(batch["image"].shape) == (4, 3, 224, 224)
    assert batch["label"].dtype == torch.int64 and tuple(batch["label"].shape) == (4,)
    assert batch["label"].tolist() == [it["label"] for it in items[:4]]
    assert "mask" not in batch


def test_whole_mammogram_and_no_mask_fallback(items):
    whole = lesion_classification_transforms(image_size=96, crop=False).inference()(dict(items[0]))
    assert tuple(whole["image"].shape) == (3, 96, 96) and "mask" not in whole and "roi_start" not in whole
    assert [op["class"] for op in whole["image"].applied_operations] == ["FastResize"]
    lesion = lesion_classification_transforms(image_size=96).inference()
    no_mask = lesion({k: v for k, v in items[0].items() if k != "mask"})
    full = tuple(no_mask["image"].applied_operations[0]["orig_size"])
    assert no_mask["roi_start"].tolist() == [0, 0] and no_mask["roi_end"].tolist() == list(full)
    assert torch.allclose(no_mask["image"], whole["image"])  # the whole image, and no crash
    back = lesion.inverse(no_mask)  # the fall-back is recorded as a crop like the others: it inverts
    assert back["image"].applied_operations == [] and tuple(back["image"].shape[1:]) == full
    cropped = lesion(dict(items[0]))
    assert not torch.allclose(cropped["image"], whole["image"])


def test_box_instead_of_mask(items):
    lesion = lesion_classification_transforms(image_size=64, margin=10, square=False).inference()
    item = {k: v for k, v in items[0].items() if k != "mask"}
    out = lesion({**item, "box": [100, 150, 140, 230]})  # [x0, y0, x1, y1], full-image pixels
    assert out["roi_start"].tolist() == [90, 140] and out["roi_end"].tolist() == [150, 240]
    assert "box" not in out
    start, end = _mask_box(items[0]["mask"])
    with_mask = lesion({**items[0], "box": [0, 0, 5, 5]})  # the mask wins over a box
    assert np.all(with_mask["roi_start"] <= np.maximum(start - 10, 0)) and np.all(with_mask["roi_end"] >= end + 10)
    _cause_matches(
        r"LesionCropd: key 'box': box \[50.0, 10.0, 20.0, 30.0\] is empty", lesion, {**item, "box": [50, 10, 20, 30]}
    )
    _cause_matches(r"expected one box \[x0, y0, x1, y1\], got \[1, 2, 3\]", lesion, {**item, "box": [1, 2, 3]})


def test_labels_are_checked(items):
    lesion = lesion_classification_transforms(image_size=32).inference()
    unlabelled = {k: v for k, v in items[0].items() if k != "label"}
    assert "label" not in lesion(unlabelled)  # inference items without a label pass
    assert lesion({**items[0], "label": 1.0})["label"].dtype == torch.int64
    bad = {**items[0], "label": "MALIGNANT"}
    _cause_matches(r"ClassIndexd: key 'label': label 'MALIGNANT' \(str\) is not a class index", lesion, bad)
    kept = lesion_classification_transforms(image_size=32, label_key=None).inference()({**items[0], "label": "x"})
    assert kept["label"] == "x"


def test_train_versus_inference(items, preset):
    train, inference = preset.train(), preset.inference()
    assert not any(isinstance(t, RandomizableTrait) for t in inference.transforms)
    assert len(train.transforms) == len(preset.deterministic.transforms) + len(preset.random.transforms) + len(
        preset.final.transforms
    )
    kinds = [isinstance(t, RandomizableTrait) for t in train.transforms]
    first, last = kinds.index(True), len(kinds) - 1 - kinds[::-1].index(True)
    assert isinstance(train.transforms[-1], NormalizeIntensityd) and last < len(kinds) - 1  # normalise last
    assert not any(kinds[:first]) and all(kinds[first : last + 1])
    reference = inference(dict(items[1]))["image"]
    train.set_random_state(0)
    drawn = [train(dict(items[1]))["image"] for _ in range(4)]
    assert all(tuple(d.shape) == (3, 224, 224) and d.dtype == torch.float32 for d in drawn)
    assert any(not torch.allclose(d, reference) for d in drawn)
    for d in drawn:  # augmented on the grey image before the repeat: channels still agree
        g = _grey(d)
        assert torch.allclose(g[0], g[1], atol=1e-4) and torch.allclose(g[0], g[2], atol=1e-4)
    train.set_random_state(0)
    again = [train(dict(items[1]))["image"] for _ in range(4)]
    assert all(torch.equal(a, b) for a, b in zip(drawn, again, strict=True))


def test_works_through_cached_dataset(items, preset, tmp_path):
    cache = tmp_path / "cache"
    ds = cached_dataset(items[:2], preset, cache)
    first, second = ds[0], ds[0]
    assert ds.computed == 1 and len(list(cache.glob("*.pt"))) == 1  # deterministic part computed once
    assert tuple(first["image"].shape) == (3, 224, 224) and first["label"].dtype == torch.int64
    assert not torch.equal(first["image"], second["image"])  # random part drawn anew
    stored = torch.load(ds.cache_path(items[0]), weights_only=True)
    assert tuple(stored["image"].shape) == (1, 224, 224) and "mask" not in stored  # grey [0, 1] image cached
    assert 0.0 <= float(stored["image"].min()) and float(stored["image"].max()) <= 1.0
    vit = cached_dataset(items[:2], lesion_classification_transforms(mean=(0.5,) * 3, std=(0.5,) * 3), cache)
    assert vit.transform_hash == ds.transform_hash  # mean/std are not in the cached part: entries are shared
    vit[0]
    assert vit.computed == 0
    val = cached_dataset(items[:2], preset.inference(), cache)
    assert val.transform_hash != ds.transform_hash
    a, b = val[1], val[1]
    assert val.computed == 1 and torch.equal(a["image"], b["image"]) and tuple(a["image"].shape) == (3, 224, 224)


def test_mean_std_option(items):
    item = dict(items[2])
    imagenet = lesion_classification_transforms(image_size=64).inference()(dict(item))["image"]
    vit = lesion_classification_transforms(image_size=64, mean=(0.5,) * 3, std=(0.5,) * 3).inference()(item)["image"]
    assert float(vit.min()) >= -1 - 1e-5 and float(vit.max()) <= 1 + 1e-5
    g = _grey(imagenet)[0]
    assert torch.allclose(vit.as_tensor() * 0.5 + 0.5, g.expand(3, -1, -1), atol=1e-5)
    grey = lesion_classification_transforms(image_size=64, mean=(0.5,), std=(0.25,)).inference()(item)["image"]
    assert tuple(grey.shape) == (1, 64, 64)
    with pytest.raises(ValueError, match=r"mean and std must have one value per output channel.*mean=\(0.5, 0.5\)"):
        lesion_classification_transforms(mean=(0.5, 0.5), std=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match=r"Unsupported augmentation settings: \['saturation'\]"):
        lesion_classification_transforms(augment={"saturation": 0.2})
