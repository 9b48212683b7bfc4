"""The augmentation switches of the bundles' train.json (issue 15): ``--augment_backend opencv`` trains through the
memory cache, the OpenCV pass and the metadata-free collate; ``--augment_device`` trains through a ThreadDataLoader
over the memory cache with no augmentation per item, the batches augmented by the trainer's PrepareBatchAugment;
without a flag the loader is what it was (disk cache, MONAI's transforms and collate, MONAI's prepare_batch)."""

from __future__ import annotations

import csv
import os

import pytest
import torch
from bundle_workflow import config_workflow
from ignite.engine import Events
from monai.data import CacheDataset, DataLoader, ThreadDataLoader, list_data_collate
from monai.engines import default_prepare_batch
from scratch import scratch_dir

from monai_cbis.data import make_synthetic_cbis
from monai_cbis.engines import PrepareBatchAugment
from monai_cbis.transforms import AtomicPersistentDataset, RandBatchAugmentd, RandOpenCVAugmentd, collate_without_meta

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUICK = {"image_size": [64, 64], "batch_size": 2, "num_workers": 0, "val_frac": 0.3}


def workflow(bundle: str, root, **overrides):
    configs = os.path.join(REPO, "bundles", bundle, "configs")
    return config_workflow([os.path.join(configs, "train.json")], os.path.join(configs, "metadata.json"), "train",
                           bundle_root=str(root), **{**QUICK, **overrides})  # fmt: skip


@pytest.fixture(scope="module")
def env(request, tmp_path_factory):
    tmp = scratch_dir(request, tmp_path_factory, "augment_switch")
    data = make_synthetic_cbis(tmp / "cbis", layout="classic", cases=8, seed=0)
    return {"tmp": tmp, "dataset_dir": data.root, "cache_dir": str(tmp / "cache")}


def _one_epoch(wf, root) -> list[dict]:
    assert wf.check_properties() in (None, [])
    wf.run()
    wf.finalize()
    with open(root / "eval" / "history.csv") as f:
        return list(csv.DictReader(f))


def test_opencv_flag_trains_one_epoch_through_the_fast_path(env):
    root = env["tmp"] / "opencv"
    wf = workflow("unet_effb3", root, dataset_dir=env["dataset_dir"], cache_dir=env["cache_dir"], epochs=1,
                  augment_backend="opencv")  # fmt: skip
    wf.initialize()
    loader = wf.parser.get_parsed_content("train#dataloader")
    assert isinstance(loader.dataset, CacheDataset) and loader.collate_fn is collate_without_meta
    assert [type(t) for t in loader.dataset.transform.transforms] == [RandOpenCVAugmentd]
    assert wf.parser.get_parsed_content("train#trainer").prepare_batch.augment is None  # MONAI's default
    rows = _one_epoch(wf, root)
    assert [int(r["epoch"]) for r in rows] == [1] and float(rows[0]["train_loss"]) > 0


def test_device_flag_trains_one_epoch_with_batches_augmented_by_the_trainer(env):
    root = env["tmp"] / "device"
    wf = workflow("unet_effb3", root, dataset_dir=env["dataset_dir"], cache_dir=env["cache_dir"], epochs=1,
                  augment_device="cpu", num_workers=2)  # fmt: skip
    wf.initialize()
    loader = wf.parser.get_parsed_content("train#dataloader")
    assert isinstance(loader, ThreadDataLoader) and loader.num_workers == 0
    assert loader.collate_fn is collate_without_meta
    assert isinstance(loader.dataset, CacheDataset) and list(loader.dataset.transform.transforms) == []
    trainer = wf.parser.get_parsed_content("train#trainer")
    prepare = trainer.prepare_batch
    assert isinstance(prepare, PrepareBatchAugment) and prepare.seed == 0
    assert [type(t) for t in prepare.augment.transforms] == [RandBatchAugmentd]
    assert wf.parser.get_parsed_content("validate#evaluator").prepare_batch is default_prepare_batch  # not augmented
    changed = []  # the network's input against the loader's batch, per iteration
    trainer.add_event_handler(
        Events.ITERATION_COMPLETED,
        lambda e: changed.extend(  # MONAI decollates batch and output: one dict per image
            not torch.equal(o["image"].cpu(), b["image"]) for o, b in zip(e.state.output, e.state.batch, strict=True)
        ),
    )
    rows = _one_epoch(wf, root)
    assert [int(r["epoch"]) for r in rows] == [1] and float(rows[0]["train_loss"]) > 0
    assert changed and any(changed)  # the trainer trained on augmented batches


@pytest.mark.parametrize("bundle", ["unet_roi", "deeplabv3plus_r50"])
def test_device_flag_builds_a_thread_loader_and_no_flag_is_unchanged(env, bundle):
    args = {"dataset_dir": env["dataset_dir"], "cache_dir": env["cache_dir"]}
    wf = workflow(bundle, env["tmp"] / f"{bundle}_device", augment_device="cpu", **args)
    wf.initialize()
    loader = wf.parser.get_parsed_content("train#dataloader")
    assert isinstance(loader, ThreadDataLoader) and list(loader.dataset.transform.transforms) == []
    assert isinstance(wf.parser.get_parsed_content("train#trainer").prepare_batch.augment.transforms[0],
                      RandBatchAugmentd)  # fmt: skip
    wf.finalize()
    wf = workflow(bundle, env["tmp"] / f"{bundle}_default", **args)
    wf.initialize()
    loader = wf.parser.get_parsed_content("train#dataloader")
    assert type(loader) is DataLoader and loader.collate_fn is list_data_collate
    assert type(loader.dataset) is AtomicPersistentDataset
    assert not any(isinstance(t, RandOpenCVAugmentd) for t in loader.dataset.transform.transforms)
    assert wf.parser.get_parsed_content("train#trainer").prepare_batch.augment is None
    wf.finalize()
