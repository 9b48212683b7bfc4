"""Class counts, loss weights and the class-balanced samplers (plain and distributed)."""

from __future__ import annotations

import doctest
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
import torch
from monai.data import DistributedWeightedRandomSampler
from torch.utils.data import WeightedRandomSampler

from monai_cbis.data import (
    class_balanced_sampler,
    class_counts,
    class_index,
    class_weights,
    loss_class_weights,
    train_sampler,
)
from monai_cbis.data import sampling as sampling_module


def _items(*counts: int, key: str = "label") -> list[dict]:
    """Items with ``counts[c]`` items of class ``c``, interleaved (not sorted by class)."""
    labels = [c for c, n in enumerate(counts) for _ in range(n)]
    order = np.random.default_rng(0).permutation(len(labels))
    return [{"image": f"img{i}.dcm", key: labels[i]} for i in order]


def test_class_counts():
    assert class_counts(_items(5, 2, 1)) == [5, 2, 1]
    assert class_counts(_items(3), num_classes=2) == [3, 0]
    mixed = [{"label": 1}, {"label": np.int64(0)}, {"label": torch.tensor(1)}, {"label": 1.0}]
    assert class_counts(mixed) == [1, 3]
    assert class_counts(_items(1, 2, key="malignant"), label_key="malignant") == [1, 2]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"image": "x"}, r"item 2 has no label key 'label' \(keys: \['image'\]\)"),
        ({"label": "MALIGNANT"}, r"item 2, key 'label': label 'MALIGNANT' \(str\) is not a class index"),
        ({"label": None}, r"item 2, key 'label': label None \(NoneType\)"),
        ({"label": 0.5}, r"item 2, key 'label': label 0.5 \(float\)"),
        ({"label": -1}, r"item 2, key 'label': label -1 is out of range; expected an int >= 0"),
    ],
)
def test_bad_labels_name_the_item(bad, message):
    items = [{"label": 0}, {"label": 1}, bad]
    for fn in (class_counts, class_weights, class_balanced_sampler):
        with pytest.raises(ValueError, match=message):
            fn(items)


def test_range_and_empty_errors():
    with pytest.raises(ValueError, match=r"item 1, key 'label': label 2 is out of range; expected an int in \[0, 2\)"):
        class_counts([{"label": 0}, {"label": 2}], num_classes=2)
    with pytest.raises(ValueError, match="no items"):
        class_counts([])
    with pytest.raises(ValueError, match="num_classes must be >= 1"):
        class_weights(_items(1), num_classes=0)
    assert class_index(torch.tensor([3])) == 3


def test_class_weights():
    w = class_weights(_items(6, 2, 4))
    assert w.dtype == torch.float32 and tuple(w.shape) == (3,)
    assert torch.allclose(w, torch.tensor([1 / 6, 1 / 2, 1 / 4]) / (11 / 36))  # proportional to 1/n, mean 1
    assert torch.isclose(w.mean(), torch.tensor(1.0))
    loss = torch.nn.CrossEntropyLoss(weight=w)(torch.zeros(4, 3), torch.tensor([0, 1, 2, 1]))
    assert torch.isfinite(loss)
    with pytest.warns(UserWarning, match=r"classes \[1\] have no items \(counts \[2, 0, 2\]\)"):
        w = class_weights([{"label": 0}, {"label": 2}] * 2)
    assert w.tolist() == [1.0, 0.0, 1.0]


def test_sampler_draws_classes_equally():
    items = _items(80, 15, 5)
    sampler = class_balanced_sampler(items, num_samples=6000, seed=0)
    assert isinstance(sampler, WeightedRandomSampler) and len(sampler) == 6000
    drawn = Counter(items[i]["label"] for i in sampler)
    for c in range(3):  # 1/3 each (binomial sd about 0.006); the seed makes it exact anyway
        assert abs(drawn[c] / 6000 - 1 / 3) < 0.05
    assert sorted({i for i in sampler if items[i]["label"] == 2}) == [
        i for i, it in enumerate(items) if it["label"] == 2
    ]


def test_sampler_defaults_seed_and_replacement():
    items = _items(8, 2)
    sampler = class_balanced_sampler(items)
    assert len(sampler) == len(items) and sampler.replacement
    assert list(class_balanced_sampler(items, seed=3)) == list(class_balanced_sampler(items, seed=3))
    assert list(class_balanced_sampler(items, seed=3, num_samples=50)) != list(
        class_balanced_sampler(items, seed=4, num_samples=50)
    )
    once = list(class_balanced_sampler(items, replacement=False))
    assert sorted(once) == list(range(len(items)))  # without replacement: a permutation
    with pytest.raises(ValueError, match=r"cannot draw num_samples=11 of 10 items without replacement"):
        class_balanced_sampler(items, num_samples=11, replacement=False)
    with pytest.raises(ValueError, match=r"num_samples must be >= 1 \(or None for len\(items\) = 10\), got 0"):
        class_balanced_sampler(items, num_samples=0)


def test_distributed_sampler_without_process_group():
    items = _items(90, 10)
    ranks = [
        class_balanced_sampler(items, num_samples=2000, distributed=True, num_replicas=2, rank=r, seed=1)
        for r in range(2)
    ]
    assert all(isinstance(s, DistributedWeightedRandomSampler) for s in ranks)
    assert [len(s) for s in ranks] == [1000, 1000]
    drawn = [list(s) for s in ranks]
    assert not set(drawn[0]) & set(drawn[1])  # each rank draws from its own shard
    labels = Counter(items[i]["label"] for d in drawn for i in d)
    assert abs(labels[1] / 2000 - 0.5) < 0.1  # shards are random halves: a looser bound than the plain sampler
    ranks[0].set_epoch(1)
    assert list(ranks[0]) != drawn[0]
    assert len(class_balanced_sampler(items, distributed=True, num_replicas=3, rank=0)) == 34
    with pytest.raises(ValueError, match="distributed=True always draws with replacement"):
        class_balanced_sampler(items, distributed=True, replacement=False, num_replicas=2, rank=0)


def test_bundle_config_and_dataloader():
    from monai.bundle import ConfigParser

    items = _items(12, 4)
    config = {
        "train": {
            "items": items,
            "sampler": {"_target_": "monai_cbis.data.class_balanced_sampler", "items": "@train#items", "seed": 0},
            "dataloader": {
                "_target_": "DataLoader",
                "dataset": "@train#items",
                "sampler": "@train#sampler",
                "shuffle": False,
                "batch_size": 4,
            },
        }
    }
    loader = ConfigParser(config).get_parsed_content("train#dataloader")
    batches = list(loader)
    assert len(batches) == 4 and tuple(batches[0]["label"].shape) == (4,)


def test_class_balance_modes():
    items = [{"label": 0}] * 6 + [{"label": 1}] * 2
    assert isinstance(train_sampler(items, "sampler"), torch.utils.data.WeightedRandomSampler)
    assert train_sampler(items, "loss_weights") is None and train_sampler(items, "none") is None
    assert loss_class_weights(items, "sampler") is None
    weights = loss_class_weights(items, "loss_weights", num_classes=2)
    assert weights[1] / weights[0] == pytest.approx(3.0)
    with pytest.raises(ValueError, match=r"Unsupported class_balance: 'oversample'"):
        train_sampler(items, "oversample")


def test_docstring_examples():
    result = doctest.testmod(sampling_module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_data_package_stays_light():
    code = "import sys, monai_cbis.data as d; assert 'torch' not in sys.modules; d.class_counts; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
