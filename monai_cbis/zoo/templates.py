"""The config templates of the two bundle families: ``segmentation`` and ``classification``.

Each function maps a :class:`~monai_cbis.zoo.specs.BundleSpec` to one config file as a plain dict. Everything a
family shares is written here once; what differs between bundles (network, preset, sizes, defaults, texts) comes
from the spec. The logic the configs call lives in importable code (``monai_cbis.bundle``, ``.handlers``,
``.transforms``, ``.networks``, ``.evaluation``), so the configs stay declarative.
"""

from __future__ import annotations

from .specs import BundleSpec

__all__ = ["CONFIG_FILES", "train_config", "evaluate_config", "inference_config", "multi_gpu_config", "metadata"]

_FROM_LOSS = "$monai.handlers.from_engine(['loss'], first=True)"


def _seg_metric_names() -> list[str]:
    return ["val_mean_dice", "val_mean_iou"]


def _cls_metric_names() -> list[str]:
    return ["val_auc", "val_accuracy"]


def _key_metric(spec: BundleSpec) -> str:
    return "val_mean_dice" if spec.family == "segmentation" else "val_auc"


def _network_def(spec: BundleSpec, pretrained: object) -> dict:
    net = dict(spec.network)
    if spec.pretrainable:
        net["pretrained"] = pretrained
    return net


def _items(spec: BundleSpec, section: str, split_params: bool = True) -> dict:
    if spec.level == "image":
        items = {
            "_target_": "monai_cbis.bundle.section_items",
            "dataset_dir": "@data_root",
            "section": section,
            "task": "@task",
            "level": "image",
        }
    else:
        items = {
            "_target_": "monai_cbis.bundle.lesion_items",
            "dataset_dir": "@data_root",
            "section": section,
            "target": "mask" if spec.family == "segmentation" else "pathology",
            "task": "@task",
        }
    if split_params:
        items.update({"split": "@split", "seed": "@seed", "val_frac": "@val_frac"})
    if spec.family == "classification":
        items["num_classes"] = "@num_classes"
    if spec.level == "image":
        items["keys"] = list(spec.item_keys)
    return items


def _preset(spec: BundleSpec, **extra) -> dict:
    return {"_target_": "monai_cbis.transforms.get_preset", "name": spec.preset, **spec.preset_args, **extra}


def _dataset(section: str) -> dict:
    return {
        "_target_": "monai_cbis.transforms.cached_dataset",
        "data": f"@{section}#items",
        "transform": f"@{section}#preprocessing",
        "cache_dir": "@cache_dir",
    }


def _loss(spec: BundleSpec) -> dict:
    if spec.family == "classification":
        return {
            "_target_": "torch.nn.CrossEntropyLoss",
            "weight": {
                "_target_": "monai_cbis.bundle.loss_class_weights",
                "items": "@train#items",
                "class_balance": "@class_balance",
                "num_classes": "@num_classes",
                "device": "@device",
            },
        }
    return dict(spec.loss)


def _train_handlers(spec: BundleSpec) -> list[dict]:
    names = _seg_metric_names() if spec.family == "segmentation" else _cls_metric_names()
    return [
        {
            "_target_": "monai_cbis.handlers.ResumableCheckpoint",
            "ckpt_dir": "@ckpt_dir",
            "resume": "@resume",
            "save_dict": {"model": "@network", "optimizer": "@optimizer", "lr_scheduler": "@lr_scheduler"},
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
        {
            "_target_": "monai_cbis.evaluation.TrainingCurvesHandler",
            "output_dir": "@output_dir",
            "validator": "@validate#evaluator",
            "metric_names": names,
        },
    ]


def _validation_postprocessing(spec: BundleSpec) -> dict:
    if spec.family == "segmentation":
        transforms = [
            {"_target_": "Activationsd", "keys": "pred", "sigmoid": True},
            {"_target_": "AsDiscreted", "keys": "pred", "threshold": 0.5},
        ]
    else:  # probabilities stay in pred (ROC AUC, report); the label becomes one-hot for ROCAUC
        transforms = [
            {"_target_": "Activationsd", "keys": "pred", "softmax": True},
            {"_target_": "AsDiscreted", "keys": "label", "to_onehot": "@num_classes"},
        ]
    return {"_target_": "Compose", "transforms": transforms}


def _metrics(spec: BundleSpec) -> tuple[dict, dict]:
    if spec.family == "segmentation":
        pl = "$monai.handlers.from_engine(['pred', 'label'])"
        key = {"val_mean_dice": {"_target_": "MeanDice", "include_background": True, "output_transform": pl}}
        more = {"val_mean_iou": {"_target_": "MeanIoUHandler", "include_background": True, "output_transform": pl}}
        return key, more
    key = {"val_auc": {"_target_": "ROCAUC", "output_transform": "$monai.handlers.from_engine(['pred', 'label'])"}}
    more = {
        "val_accuracy": {
            "_target_": "ignite.metrics.Accuracy",
            "output_transform": "$monai_cbis.handlers.class_scores_and_indices()",
        }
    }
    return key, more


def train_config(spec: BundleSpec) -> dict:
    """``configs/train.json``: hyper-parameters on top, then ``train`` and ``validate`` sections (zoo layout)."""
    cfg: dict = {
        "imports": [
            "$import torch",
            "$import monai",
            "$import monai_cbis",
            "$import monai_cbis.bundle",
            "$import monai_cbis.handlers",
            "$import monai_cbis.distributed",
        ],
        "bundle_root": "$monai_cbis.bundle.infer_bundle_root()",
        "ckpt_dir": "$@bundle_root + '/models'",
        "output_dir": "$@bundle_root + '/eval'",
        "dataset_dir": "",
        "data_root": {"_target_": "monai_cbis.bundle.resolve_dataset_dir", "dataset_dir": "@dataset_dir"},
        "cache_dir": "$monai_cbis.bundle.cache_root() + '/preprocessed'",
        "task": spec.task,
        "split": "patient",
        "seed": 0,
        "val_frac": 0.2,
        "image_size": [spec.image_size, spec.image_size],
        **spec.extra_params,
        "epochs": spec.epochs,
        "batch_size": spec.batch_size,
        "learning_rate": spec.learning_rate,
        "lr_schedule": "plateau",
        "warmup_epochs": 1,
        "grad_clip": None,
        "key_metric": _key_metric(spec),
        "early_stop_patience": spec.early_stop_patience,
        "num_workers": 0,
        "amp": False,
        "resume": False,
    }
    if spec.pretrainable:
        cfg["use_imagenet_pretrain"] = False
    cfg.update(
        {
            "val_interval": 1,
            "device": "$torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
            "network_def": _network_def(spec, "@use_imagenet_pretrain"),
            "network": "$@network_def.to(@device)",
            "preset": _preset(spec),
            "loss": _loss(spec),
            "optimizer": {
                "_target_": "torch.optim.Adam",
                "params": "$@network.parameters()",
                "lr": "@learning_rate",
            },
            "lr_scheduler": {
                "_target_": "monai_cbis.optim.lr_scheduler",
                "optimizer": "@optimizer",
                "schedule": "@lr_schedule",
                "epochs": "@epochs",
                "steps_per_epoch": "$len(@train#dataloader)",
                "warmup_epochs": "@warmup_epochs",
                "factor": 0.5,
                "patience": spec.lr_patience,
            },
        }
    )
    if spec.family == "classification":
        cfg["optimizer"]["params"] = "$[p for p in @network.parameters() if p.requires_grad]"
    train_loader = {
        "_target_": "DataLoader",
        "dataset": "@train#dataset",
        "batch_size": "@batch_size",
        "shuffle": True,
        "num_workers": "@num_workers",
    }
    train: dict = {
        "items": _items(spec, "training"),
        "preprocessing": "$@preset.train()",
        "dataset": _dataset("train"),
    }
    if spec.level != "image":  # a last batch of one breaks batch norm on 1 x 1 maps (DeepLabV3+'s ASPP pooling)
        train_loader["drop_last"] = True
    if spec.family == "classification":
        train["sampler"] = {
            "_target_": "monai_cbis.bundle.train_sampler",
            "items": "@train#items",
            "class_balance": "@class_balance",
            "seed": "@seed",
        }
        train_loader.update({"sampler": "@train#sampler", "shuffle": "$@train#sampler is None"})
    train.update(
        {
            "dataloader": train_loader,
            "inferer": {"_target_": "SimpleInferer"},
            "handlers": _train_handlers(spec),
            "trainer": {
                "_target_": "SupervisedTrainer",
                "max_epochs": "@epochs",
                "device": "@device",
                "train_data_loader": "@train#dataloader",
                "network": "@network",
                "loss_function": "@loss",
                "optimizer": "@optimizer",
                "inferer": "@train#inferer",
                "amp": "@amp",
                "train_handlers": "@train#handlers",
            },
        }
    )
    key, more = _metrics(spec)
    validate = {
        "items": _items(spec, "validation"),
        "preprocessing": "$@preset.inference()",
        "dataset": _dataset("validate"),
        "dataloader": {
            "_target_": "DataLoader",
            "dataset": "@validate#dataset",
            "batch_size": "@batch_size",
            "shuffle": False,
            "num_workers": "@num_workers",
        },
        "inferer": {"_target_": "SimpleInferer"},
        "postprocessing": _validation_postprocessing(spec),
        "metrics": {**key, **more},
        "key_metric": "$monai_cbis.handlers.split_key_metric(@validate#metrics, @key_metric)[0]",
        "additional_metrics": "$monai_cbis.handlers.split_key_metric(@validate#metrics, @key_metric)[1]",
        "handlers": [
            {"_target_": "StatsHandler", "iteration_log": False},
            {"_target_": "TensorBoardStatsHandler", "log_dir": "@output_dir", "iteration_log": False},
            {
                "_target_": "CheckpointSaver",
                "save_dir": "@ckpt_dir",
                "save_dict": {"model": "@network"},
                "save_key_metric": True,
                "key_metric_filename": "model.pt",
            },
        ],
        "evaluator": {
            "_target_": "SupervisedEvaluator",
            "device": "@device",
            "val_data_loader": "@validate#dataloader",
            "network": "@network",
            "inferer": "@validate#inferer",
            "postprocessing": "@validate#postprocessing",
            "key_val_metric": "@validate#key_metric",
            "additional_metrics": "@validate#additional_metrics",
            "val_handlers": "@validate#handlers",
            "amp": "@amp",
        },
    }
    cfg.update(
        {
            "train": train,
            "validate": validate,
            "initialize": ["$monai.utils.set_determinism(seed=@seed)"],
            "run": ["$@train#trainer.run()"],
            "training": "%run",
        }
    )
    return cfg


def _report_handler(spec: BundleSpec) -> dict:
    if spec.family == "segmentation":
        handler = {"_target_": "monai_cbis.evaluation.SegmentationReportHandler", "output_dir": "@output_dir"}
        handler["num_overlays"] = 8
    else:
        handler = {
            "_target_": "monai_cbis.evaluation.ClassificationReportHandler",
            "output_dir": "@output_dir",
            "positive_index": "$@num_classes - 1",
        }
    handler["model_name"] = spec.name
    return handler


def evaluate_config(spec: BundleSpec) -> dict:
    """``configs/evaluate.json``: layered on train.json; the test section, the best checkpoint, the report."""
    return {
        "validate#items#section": "test",
        "dataset": "@validate#dataset",
        "preprocessing": "@validate#preprocessing",
        "inferer": "@validate#inferer",
        "postprocessing": "@validate#postprocessing",
        "evaluator": "@validate#evaluator",
        "validate#handlers": [
            {
                "_target_": "CheckpointLoader",
                "load_path": "$@ckpt_dir + '/model.pt'",
                "load_dict": {"model": "@network"},
                "map_location": "@device",
            },
            {"_target_": "StatsHandler", "iteration_log": False},
            _report_handler(spec),
        ],
        "initialize": ["$monai.utils.set_determinism(seed=@seed)"],
        "run": ["$@validate#evaluator.run()"],
    }


def _inference_items(spec: BundleSpec) -> dict:
    if spec.level == "image":
        return {"_target_": "monai_cbis.bundle.inference_items", "dataset_dir": "@dataset_dir"}
    return {
        "_target_": "monai_cbis.bundle.lesion_inference_items",
        "dataset_dir": "@dataset_dir",
        "datalist": "@datalist",
        "task": "@task",
    }


def _save_mask(spec: BundleSpec) -> list[dict]:
    root = (
        "$monai_cbis.bundle.inference_root(@dataset_dir)"
        if spec.level == "image"
        else "$monai_cbis.bundle.lesion_inference_root(@dataset_dir, @datalist)"
    )
    steps: list[dict] = []
    if spec.level != "image":  # one mask per lesion: name it after the ROI mask it refines (several per film)
        steps.append({"_target_": "monai_cbis.transforms.CopyFilenamed", "keys": "pred", "source_key": "mask"})
    steps.append(
        {
            "_target_": "SaveImaged",
            "keys": "pred",
            "output_dir": "@output_dir",
            "output_ext": ".png",
            "output_postfix": "",
            "output_dtype": "$np.uint8",
            "scale": 255,
            "resample": False,
            "separate_folder": False,
            "data_root_dir": root,
            "print_log": False,
        }
    )
    return steps


def inference_config(spec: BundleSpec) -> dict:
    """``configs/inference.json``: stand-alone (no train.json); also what MONAI Label and ``ckpt_export`` read."""
    cfg: dict = {
        "imports": ["$import torch", "$import numpy as np", "$import monai_cbis", "$import monai_cbis.bundle"],
        "bundle_root": "$monai_cbis.bundle.infer_bundle_root()",
        "output_dir": "$@bundle_root + '/eval/inference'",
        "dataset_dir": "",
    }
    if spec.level != "image":
        cfg["datalist"] = ""
        cfg["task"] = spec.task
    cfg["image_size"] = [spec.image_size, spec.image_size]
    cfg.update(spec.extra_params)
    cfg["device"] = "$torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')"
    cfg["network_def"] = _network_def(spec, False)
    cfg["network"] = "$@network_def.to(@device)"
    cfg["preprocessing"] = {
        "_target_": "monai_cbis.transforms.preset_compose",
        "name": spec.preset,
        "part": "inference",
        **spec.preset_args,
        **spec.inference_preset_args,
    }
    cfg["dataset"] = {"_target_": "Dataset", "data": _inference_items(spec), "transform": "@preprocessing"}
    cfg["dataloader"] = {
        "_target_": "DataLoader",
        "dataset": "@dataset",
        "batch_size": 1,
        "shuffle": False,
        "num_workers": 0,
    }
    cfg["inferer"] = {"_target_": "SimpleInferer"}
    handlers: list[dict] = [
        {
            "_target_": "CheckpointLoader",
            "load_path": "$@bundle_root + '/models/model.pt'",
            "load_dict": {"model": "@network"},
            "map_location": "@device",
        },
        {"_target_": "StatsHandler", "iteration_log": False},
    ]
    if spec.family == "segmentation":
        post = [
            {"_target_": "Activationsd", "keys": "pred", "sigmoid": True},
            {
                "_target_": "Invertd",
                "keys": "pred",
                "transform": "@preprocessing",
                "orig_keys": "image",
                "nearest_interp": False,
                "to_tensor": True,
            },
            {"_target_": "AsDiscreted", "keys": "pred", "threshold": 0.5},
            *_save_mask(spec),
            {"_target_": "SqueezeDimd", "keys": "pred", "dim": 0},
        ]
    else:
        # The image is dropped once predicted: the class needs none of it, and MONAI Label's BundleInferTask
        # appends a Restored that would resize the probabilities to the image's spatial_shape in its metadata.
        post = [
            {"_target_": "Activationsd", "keys": "pred", "softmax": True},
            {"_target_": "DeleteItemsd", "keys": ["image", "image_meta_dict"]},
        ]
        handlers.append(
            {
                "_target_": "monai_cbis.handlers.ClassificationCSVWriter",
                "output_file": "$@output_dir + '/predictions.csv'",
                "class_names": "$monai_cbis.bundle.pathology_classes(@num_classes)",
            }
        )
    cfg["postprocessing"] = {"_target_": "Compose", "transforms": post}
    cfg["handlers"] = handlers
    cfg["evaluator"] = {
        "_target_": "SupervisedEvaluator",
        "device": "@device",
        "val_data_loader": "@dataloader",
        "network": "@network",
        "inferer": "@inferer",
        "postprocessing": "@postprocessing",
        "val_handlers": "@handlers",
    }
    cfg["initialize"] = ["$monai.utils.set_determinism(seed=0)"]
    cfg["run"] = ["$@evaluator.run()"]
    return cfg


def multi_gpu_config(spec: BundleSpec) -> dict:
    """``configs/multi_gpu_train.json``: layered on train.json for ``torchrun`` (NCCL on GPUs, gloo on CPUs)."""
    cfg: dict = {
        "device": "$monai_cbis.distributed.ddp_device()",
        "network": {
            "_target_": "torch.nn.parallel.DistributedDataParallel",
            "module": "$@network_def.to(@device)",
            "device_ids": "$monai_cbis.distributed.ddp_device_ids(@device)",
            "find_unused_parameters": spec.find_unused_parameters,
        },
    }
    if spec.family == "classification":
        cfg["train#sampler#distributed"] = True
    else:
        cfg["train#sampler"] = {
            "_target_": "DistributedSampler",
            "dataset": "@train#dataset",
            "even_divisible": True,
            "shuffle": True,
        }
        cfg["train#dataloader#sampler"] = "@train#sampler"
        cfg["train#dataloader#shuffle"] = False
    cfg.update(
        {
            "train#trainer#train_handlers": {
                "_target_": "monai_cbis.distributed.rank_zero_writers",
                "handlers": "@train#handlers",
            },
            "validate#sampler": {
                "_target_": "DistributedSampler",
                "dataset": "@validate#dataset",
                "even_divisible": False,
                "shuffle": False,
            },
            "validate#dataloader#sampler": "@validate#sampler",
            "validate#evaluator#val_handlers": {
                "_target_": "monai_cbis.distributed.rank_zero_writers",
                "handlers": "@validate#handlers",
            },
            "initialize": [
                "$monai_cbis.distributed.init_distributed()",
                "$monai.utils.set_determinism(seed=@seed)",
            ],
            "run": ["$@train#trainer.run()"],
            "training": "%run",
            "finalize": ["$monai_cbis.distributed.destroy_distributed()"],
        }
    )
    return cfg


def _versions(spec: BundleSpec) -> dict:
    return {
        "monai_version": "1.6.1",
        "pytorch_version": "2.15.0",
        "numpy_version": "2.4.6",
        "required_packages_version": {
            "monai-cbis": "0.1.0",
            "pydicom": "3.0.2",
            "opencv-python-headless": "5.0.0.93",
            "pytorch-ignite": "0.5.5",
            "tensorboard": "2.21.0",
            "matplotlib": "3.11.2",
            **spec.extra_packages,
        },
    }


def metadata(spec: BundleSpec) -> dict:
    """``configs/metadata.json`` in the model zoo's schema."""
    size = [spec.image_size, spec.image_size]
    inputs = {
        "image": {
            "type": "image",
            "format": "magnitude",
            "modality": "MG",
            "num_channels": spec.input_channels,
            "spatial_shape": size,
            "dtype": "float32",
            "value_range": list(spec.input_range),
            "is_patch_data": False,
            "channel_def": {str(c): "image" for c in range(spec.input_channels)},
        }
    }
    if spec.family == "segmentation":
        outputs = {
            "pred": {
                "type": "image",
                "format": "segmentation",
                "num_channels": 1,
                "spatial_shape": size,
                "dtype": "float32",
                "value_range": [0, 1],
                "is_patch_data": False,
                "channel_def": {"0": "background", "1": "lesion"},
            }
        }
        eval_metrics = {"lesion_dice": "see docs/README.md Performance", "lesion_iou": "see docs/README.md Performance"}
    else:
        outputs = {
            "pred": {
                "type": "probabilities",
                "format": "classes",
                "num_channels": 2,
                "spatial_shape": [2],
                "dtype": "float32",
                "value_range": [0, 1],
                "is_patch_data": False,
                "channel_def": {"0": "benign", "1": "malignant"},
            }
        }
        eval_metrics = {k: "see docs/README.md Performance" for k in ("accuracy", "roc_auc")}
    return {
        "schema": "https://github.com/Project-MONAI/MONAI-extra-test-data/releases/download/0.8.1/meta_schema_20220324.json",
        "version": spec.version,
        "changelog": dict(spec.changelog),
        **_versions(spec),
        "supported_apps": {"monai-label": "0.8.5"},
        "name": spec.title,
        "task": spec.task_text,
        "description": spec.description,
        "authors": "monai-cbis developers",
        "copyright": "Copyright (c) monai-cbis developers",
        "data_source": (
            "CBIS-DDSM, The Cancer Imaging Archive, DOI 10.7937/K9/TCIA.2016.7O02S9CY (CC BY 3.0); or the project's "
            "synthetic CBIS-DDSM"
        ),
        "data_type": "dicom",
        "image_classes": spec.image_classes,
        "label_classes": spec.label_classes,
        "pred_classes": spec.pred_classes,
        "eval_metrics": eval_metrics,
        "intended_use": "Research only. Not a medical device; not for clinical use.",
        "references": list(spec.references),
        "network_data_format": {"inputs": inputs, "outputs": outputs},
    }


#: file name -> template, for every bundle.
CONFIG_FILES = {
    "configs/train.json": train_config,
    "configs/evaluate.json": evaluate_config,
    "configs/inference.json": inference_config,
    "configs/multi_gpu_train.json": multi_gpu_config,
    "configs/metadata.json": metadata,
}
