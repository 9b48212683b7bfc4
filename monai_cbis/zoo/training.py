"""The training templates: ``configs/train.json`` and ``configs/multi_gpu_train.json`` of every bundle.

Each function maps a :class:`~monai_cbis.zoo.specs.BundleSpec` to one config as a plain dict. What the bundles share
is written here once; what a family differs in comes from its :class:`~monai_cbis.zoo.families.BundleFamily`, what
an item level differs in from its :class:`~monai_cbis.zoo.levels.ItemLevel`, and the rest from the spec. The logic
the configs call lives in importable code (``monai_cbis.data``, ``.bundle_root``, ``.handlers``, ``.transforms``,
``.networks``, ``.optim``, ``.distributed``), so the configs stay declarative.
"""

from __future__ import annotations

from .augment_switch import IN_MEMORY, PREPARE_BATCH, SWITCH_ARGS, SWITCH_PARAMS, switchable
from .families import BundleFamily, breast_gate_step, get_family
from .levels import get_level
from .specs import BundleSpec

__all__ = [
    "train_config",
    "multi_gpu_config",
    "readable_items_config",
    "skipped_report_config",
    "validation_postprocessing",
]

_FROM_LOSS = "$monai.handlers.from_engine(['loss'], first=True)"


def readable_items_config(section: str, dataset_dir: str = "@data_root", cache_dir: str | None = "@cache_dir") -> dict:
    """The ``items`` config of a section: its ``section_items`` (or inference ``inputs``) whose files decode,
    screened once before the loader is built (:func:`monai_cbis.transforms.readable_items`); what is left out goes
    to the run's ledger ``@skipped``."""
    prefix = f"{section}#" if section else ""
    return {
        "_target_": "monai_cbis.transforms.readable_items",
        "items": f"@{prefix}section_items" if section else "@inputs",
        "transform": f"@{prefix}preprocessing",
        "cache_dir": cache_dir,
        "skip_unreadable": "@skip_unreadable",
        "skipped": "@skipped",
        "dataset_dir": dataset_dir,
        "num_workers": "@num_workers" if section else 0,
    }


def skipped_report_config(output_file: str, require_data: bool = False) -> dict:
    """The handler that logs the run's skipped rows and files by reason and writes their list to ``output_file``;
    with ``require_data`` it also stops a run whose loader yields no batch, saying why."""
    cfg = {"_target_": "monai_cbis.evaluation.SkippedFilesHandler", "skipped": "@skipped", "output_file": output_file}
    if require_data:
        cfg["require_data"] = True
    return cfg


def _items(section: str, family: BundleFamily) -> dict:
    """``items`` (and ``readable_items`` before a family's screening step) of a train / validate section."""
    readable = readable_items_config(section)
    if family.items_filter is None:
        return {"items": readable}
    screened = {
        **family.items_filter,
        "items": f"@{section}#readable_items",
        "transform": f"@{section}#preprocessing",
        "cache_dir": "@cache_dir",
        "skipped": "@skipped",
    }
    return {"readable_items": readable, "items": screened}


def _loader(loader: dict, family: BundleFamily) -> dict:
    if family.collate_fn is not None:
        loader["collate_fn"] = family.collate_fn
    return loader


def _dataset(section: str, in_memory: bool = False) -> dict:
    """A section's cached dataset; ``in_memory``: held in memory when an augmentation switch asks for it
    (:data:`~monai_cbis.zoo.augment_switch.IN_MEMORY`)."""
    dataset = {
        "_target_": "monai_cbis.transforms.cached_dataset",
        "data": f"@{section}#items",
        "transform": f"@{section}#preprocessing",
        "cache_dir": "@cache_dir",
    }
    if in_memory:
        dataset["in_memory"] = IN_MEMORY
    return dataset


def _train_handlers(family: BundleFamily) -> list[dict]:
    return [
        {
            "_target_": "monai_cbis.handlers.ResumableCheckpoint",
            "ckpt_dir": "@ckpt_dir",
            "resume": "@resume",
            "save_dict": {"model": "@network", "optimizer": "@optimizer", "lr_scheduler": "@lr_scheduler"},
            "validator": "@validate#evaluator",
            "map_location": "@device",
        },
        {
            "_target_": "ValidationHandler",
            "validator": "@validate#evaluator",
            "epoch_level": True,
            "interval": "@val_interval",
        },
        {
            "_target_": "monai_cbis.handlers.lr_schedule_handler",
            "lr_scheduler": "@lr_scheduler",
            "validator": "@validate#evaluator",
            "metric_name": "@key_metric",
        },
        {"_target_": "monai_cbis.handlers.GradientClipping", "max_norm": "@grad_clip"},
        {
            "_target_": "monai_cbis.handlers.EarlyStopOnValidation",
            "validator": "@validate#evaluator",
            "metric_name": "@key_metric",
            "patience": "@early_stop_patience",
        },
        {"_target_": "StatsHandler", "tag_name": "train_loss", "output_transform": _FROM_LOSS},
        {
            "_target_": "TensorBoardStatsHandler",
            "log_dir": "@output_dir",
            "tag_name": "train_loss",
            "output_transform": _FROM_LOSS,
        },
        skipped_report_config("@skipped_file", require_data=True),
        {
            "_target_": "monai_cbis.evaluation.TrainingCurvesHandler",
            "output_dir": "@output_dir",
            "validator": "@validate#evaluator",
            "metric_names": family.metric_names,
        },
    ]


def _parameters(spec: BundleSpec, family: BundleFamily) -> dict:
    params: dict = {
        "imports": [
            "$import torch",
            "$import monai",
            "$import monai_cbis",
            "$import monai_cbis.bundle_root",
            "$import monai_cbis.handlers",
            "$import monai_cbis.distributed",
            "$import monai_cbis.networks",
        ],
        "bundle_root": "$monai_cbis.bundle_root.infer_bundle_root()",
        "ckpt_dir": "$@bundle_root + '/models'",
        "output_dir": "$@bundle_root + '/eval'",
        "dataset_dir": "",
        "data_root": {"_target_": "monai_cbis.data.demo.resolve_dataset_dir", "dataset_dir": "@dataset_dir"},
        "cache_dir": "$monai_cbis.data.demo.cache_root() + '/preprocessed'",
        "task": spec.task,
        "split": "patient",
        "seed": 0,
        "val_frac": 0.2,
        **family.size_params(spec),
        **spec.extra_params,
        "epochs": spec.epochs,
        "batch_size": spec.batch_size,
        "learning_rate": spec.learning_rate,
        "lr_schedule": spec.lr_schedule,
        "warmup_epochs": 1,
        "grad_clip": None,
        "key_metric": family.key_metric,
        "early_stop_patience": spec.early_stop_patience,
        "num_workers": 0,
        **(SWITCH_PARAMS if switchable(spec) else {}),
        "amp": False,
        "channels_last": spec.channels_last,
        "resume": False,
        "skip_unreadable": False,
        "skipped": {"_target_": "monai_cbis.data.skips.SkippedItems"},
        "skipped_file": "$@output_dir + '/skipped_training.json'",
    }
    if spec.pretrainable:
        params["use_imagenet_pretrain"] = False
    if breast_gate_step(spec) is not None:
        params["gate_by_breast"] = True
    return params


def _train_section(spec: BundleSpec, family: BundleFamily) -> dict:
    level = get_level(spec.level)
    switch = switchable(spec)
    loader = {
        "_target_": "monai_cbis.transforms.train_loader" if switch else "DataLoader",
        "dataset": "@train#dataset",
        "batch_size": "@batch_size",
        "shuffle": True,
        "num_workers": "@num_workers",
    }
    if switch:
        loader.update(SWITCH_ARGS)
    if level.drop_last:
        loader["drop_last"] = True
    _loader(loader, family)
    train: dict = {
        "section_items": level.items(spec, family, "training", True),
        **_items("train", family),
        "preprocessing": "$@preset.train()",
        "dataset": _dataset("train", in_memory=switch),
    }
    if family.train_sampler is not None:
        train["sampler"] = dict(family.train_sampler)
        loader.update({"sampler": "@train#sampler", "shuffle": "$@train#sampler is None"})
    train.update(
        {
            "dataloader": loader,
            "inferer": dict(family.inferer),
            "handlers": _train_handlers(family),
            "trainer": {
                "_target_": family.trainer_target,
                "max_epochs": "@epochs",
                "device": "@device",
                "train_data_loader": "@train#dataloader",
                "network": "@network",
                "loss_function": "@loss",
                "optimizer": "@optimizer",
                "inferer": "@train#inferer",
                "amp": "@amp",
                "optim_set_to_none": True,  # as PyTorch's zero_grad default: no memset, no add into old grads
                "train_handlers": "@train#handlers",
                **({"prepare_batch": PREPARE_BATCH} if switch else {}),
                **family.engine_args,
            },
        }
    )
    return train


def validation_postprocessing(spec: BundleSpec, family: BundleFamily) -> list[dict]:
    """The family's validation post-processing, then its breast gate where the bundle has one (so validation
    metrics, the best model and the evaluation all score the gated prediction)."""
    gate = breast_gate_step(spec)
    return [*family.validation_postprocessing, *([gate] if gate is not None else [])]


def _validate_section(spec: BundleSpec, family: BundleFamily) -> dict:
    split = "monai_cbis.handlers.split_key_metric(@validate#metrics, @key_metric)"
    return {
        "section_items": get_level(spec.level).items(spec, family, "validation", True),
        **_items("validate", family),
        "preprocessing": "$@preset.inference()",
        "dataset": _dataset("validate"),
        "dataloader": _loader(
            {
                "_target_": "DataLoader",
                "dataset": "@validate#dataset",
                "batch_size": family.validation_batch_size,
                "shuffle": False,
                "num_workers": "@num_workers",
            },
            family,
        ),
        "inferer": family.evaluation_inferer,
        "postprocessing": {"_target_": "Compose", "transforms": validation_postprocessing(spec, family)},
        "metrics": dict(family.metrics),
        "key_metric": f"${split}[0]",
        "additional_metrics": f"${split}[1]",
        "handlers": [
            {"_target_": "StatsHandler", "iteration_log": False},
            {"_target_": "TensorBoardStatsHandler", "log_dir": "@output_dir", "iteration_log": False},
            {
                "_target_": "monai_cbis.atomic_savers.AtomicCheckpointSaver",
                "save_dir": "@ckpt_dir",
                "save_dict": {"model": "@network"},
                "save_key_metric": True,
                "key_metric_filename": "model.pt",
            },
        ],
        "evaluator": {
            "_target_": family.evaluator_target,
            "device": "@device",
            "val_data_loader": "@validate#dataloader",
            "network": "@network",
            "inferer": "@validate#inferer",
            "postprocessing": "@validate#postprocessing",
            "key_val_metric": "@validate#key_metric",
            "additional_metrics": "@validate#additional_metrics",
            "val_handlers": "@validate#handlers",
            "amp": "@amp",
            **family.engine_args,
        },
    }


#: the network on its device, channels-last when ``channels_last`` (:func:`monai_cbis.networks.place_network`)
_PLACED_NETWORK = "$monai_cbis.networks.place_network(@network_def, @device, @channels_last)"


def train_config(spec: BundleSpec) -> dict:
    """``configs/train.json``: hyper-parameters on top, then ``train`` and ``validate`` sections (zoo layout)."""
    family = get_family(spec.family)
    cfg = _parameters(spec, family)
    cfg.update(
        {
            "val_interval": 1,
            "device": "$torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
            "network_def": spec.network_def("@use_imagenet_pretrain"),
            "network": _PLACED_NETWORK,
            **family.components(spec),
            "preset": spec.preset_config(**(SWITCH_ARGS if switchable(spec) else {})),
            "loss": family.loss_config(spec),
            "optimizer": {"_target_": "torch.optim.Adam", "params": family.optimizer_params, "lr": "@learning_rate"},
            "lr_scheduler": {
                "_target_": "monai_cbis.optim.lr_scheduler",
                "optimizer": "@optimizer",
                "schedule": "@lr_schedule",
                # the trainer's own length: MONAI Label's BundleTrainTask overrides train#trainer#max_epochs only
                "epochs": "%train#trainer#max_epochs",
                "steps_per_epoch": "$len(@train#dataloader)",
                "warmup_epochs": "@warmup_epochs",
                "factor": 0.5,
                "patience": spec.lr_patience,
            },
            "train": _train_section(spec, family),
            "validate": _validate_section(spec, family),
            "initialize": ["$monai.utils.set_determinism(seed=@seed)"],
            "run": ["$@train#trainer.run()"],
            "training": "%run",
        }
    )
    return cfg


def _ddp_train_sampler(family: BundleFamily) -> dict:
    if family.train_sampler is not None:  # the family's own sampler shards itself
        return {"train#sampler#distributed": True}
    return {
        "train#sampler": {
            "_target_": "DistributedSampler",
            "dataset": "@train#dataset",
            "even_divisible": True,
            "shuffle": True,
        },
        "train#dataloader#sampler": "@train#sampler",
        "train#dataloader#shuffle": False,
    }


def _rank_zero_only(spec: BundleSpec) -> dict:
    """``_disabled_`` on other ranks for every handler that creates files when it is built (TensorBoard's
    ``SummaryWriter`` opens its event file in the constructor, before ``rank_zero_writers`` could drop it)."""
    train = train_config(spec)
    out = {}
    for section in ("train", "validate"):
        for i, handler in enumerate(train[section]["handlers"]):
            if isinstance(handler, dict) and handler.get("_target_", "").startswith("TensorBoard"):
                out[f"{section}#handlers#{i}#_disabled_"] = "$monai_cbis.distributed.not_rank_zero()"
    return out


def multi_gpu_config(spec: BundleSpec) -> dict:
    """``configs/multi_gpu_train.json``: layered on train.json for ``torchrun`` (NCCL on GPUs, gloo on CPUs), on one
    node (``--standalone``) or several (``--nnodes``, ``--rdzv_backend c10d``)."""
    return {
        "device": "$monai_cbis.distributed.ddp_device()",
        "network": {
            "_target_": "torch.nn.parallel.DistributedDataParallel",
            "module": _PLACED_NETWORK,
            "device_ids": "$monai_cbis.distributed.ddp_device_ids(@device)",
            "find_unused_parameters": spec.find_unused_parameters,
        },
        **_ddp_train_sampler(get_family(spec.family)),
        # an expression, not a component: MONAI's check_properties() reads these ids as reference strings
        "train#trainer#train_handlers": "$monai_cbis.distributed.rank_zero_writers(@train#handlers)",
        **_rank_zero_only(spec),
        "validate#sampler": {
            "_target_": "DistributedSampler",
            "dataset": "@validate#dataset",
            "even_divisible": False,
            "shuffle": False,
        },
        "validate#dataloader#sampler": "@validate#sampler",
        "validate#evaluator#val_handlers": "$monai_cbis.distributed.rank_zero_writers(@validate#handlers)",
        "initialize": [
            "$monai_cbis.distributed.init_distributed()",
            "$monai.utils.set_determinism(seed=@seed)",
        ],
        "run": ["$@train#trainer.run()"],
        "training": "%run",
        "finalize": ["$monai_cbis.distributed.destroy_distributed()"],
    }
