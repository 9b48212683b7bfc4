"""The templates that run a trained model: ``configs/evaluate.json`` and ``configs/inference.json``.

``evaluate.json`` is layered on train.json (the test section, the best checkpoint, the family's report handler with
the spec's published figures); ``inference.json`` stands alone, as MONAI Label and ``ckpt_export`` read it. Both get
their pipeline the way train.json does: a ``preset`` object (:func:`monai_cbis.transforms.get_preset`) and
``"$@preset.inference()"``.
"""

from __future__ import annotations

from .families import BundleFamily, breast_gate_step, get_family
from .levels import ItemLevel, get_level
from .specs import BundleSpec
from .training import readable_items_config, skipped_report_config, validation_postprocessing

__all__ = ["evaluate_config", "evaluation_run", "inference_config"]


def _scores_film_geometry(spec: BundleSpec) -> bool:
    """Whether the bundle's evaluation can score at the original film (``eval_geometry``)."""
    return get_family(spec.family).original_geometry is not None and get_level(spec.level).film_geometry


def _report_handler(spec: BundleSpec) -> dict:
    family = get_family(spec.family)
    handler = {**family.report_handler, "model_name": spec.name}
    if family.report_level_args is not None:
        handler.update(family.report_level_args(get_level(spec.level)))
    if spec.published is not None:
        handler["paper_reference"] = spec.published
    if _scores_film_geometry(spec):
        handler["geometry"] = "@eval_geometry"
    return handler


def _geometry_params(spec: BundleSpec) -> dict:
    """``eval_geometry`` (``"working"``: the bundle's working grid; ``"original"``: the original film) and the
    validation post-processing with the family's steps that move prediction and ground truth onto the film, for
    bundles whose evaluation can score at the film's geometry; nothing for the others (their configs unchanged)."""
    if not _scores_film_geometry(spec):
        return {}
    family = get_family(spec.family)
    steps = [*validation_postprocessing(spec, family), *family.original_geometry(spec)]
    return {"eval_geometry": "working", "validate#postprocessing": {"_target_": "Compose", "transforms": steps}}


def _load_model(load_path: str) -> list[dict]:
    """The handlers every run of a trained model starts with: load ``load_path`` into the network, log the run."""
    return [
        {
            "_target_": "CheckpointLoader",
            "load_path": load_path,
            "load_dict": {"model": "@network"},
            "map_location": "@device",
        },
        {"_target_": "StatsHandler", "iteration_log": False},
    ]


def _inputs(family: BundleFamily, level: ItemLevel) -> dict:
    """What inference runs on; with a choice of ``output_format``, checked against it before the model runs (a DICOM
    output needs DICOM inputs)."""
    inputs = dict(level.inference_items)
    if not family.output_formats:
        return inputs
    return {
        "_target_": "monai_cbis.outputs.inputs_for_output_format",
        "items": inputs,
        "output_format": "@output_format",
        "options": list(family.output_formats),
    }


def evaluation_run(report_handler: dict) -> dict:
    """How every evaluate config layered on train.json ends: the names MONAI's bundle workflow looks up, aimed at the
    ``validate`` section; its handlers (the best checkpoint, the skip ledger into ``@skipped_file``, then
    ``report_handler``); and the run."""
    return {
        "dataset": "@validate#dataset",
        "preprocessing": "@validate#preprocessing",
        "inferer": "@validate#inferer",
        "postprocessing": "@validate#postprocessing",
        "evaluator": "@validate#evaluator",
        "validate#handlers": [
            *_load_model("$@ckpt_dir + '/model.pt'"),
            skipped_report_config("@skipped_file"),
            report_handler,
        ],
        "initialize": ["$monai.utils.set_determinism(seed=@seed)"],
        "run": ["$@validate#evaluator.run()"],
    }


def evaluate_config(spec: BundleSpec) -> dict:
    """``configs/evaluate.json``: layered on train.json; the test section, the best checkpoint, the report."""
    return {
        "validate#section_items#section": "test",
        "skipped_file": "$@output_dir + '/skipped_evaluation.json'",
        **_geometry_params(spec),
        **evaluation_run(_report_handler(spec)),
    }


def inference_config(spec: BundleSpec) -> dict:
    """``configs/inference.json``: stand-alone (no train.json); also what MONAI Label and ``ckpt_export`` read."""
    family, level = get_family(spec.family), get_level(spec.level)
    cfg: dict = {
        "imports": [
            "$import torch",
            "$import numpy as np",
            "$import monai_cbis",
            "$import monai_cbis.bundle_root",
            "$import monai_cbis.networks",
        ],
        "bundle_root": "$monai_cbis.bundle_root.infer_bundle_root()",
        "output_dir": "$@bundle_root + '/eval/inference'",
        "dataset_dir": "",
    }
    if level.reads_datalist:
        cfg["datalist"] = ""
        cfg["task"] = spec.task
    cfg.update(family.size_params(spec))
    if family.output_formats:
        cfg["output_format"] = family.output_formats[0]
    cfg.update(spec.extra_params)
    gate = breast_gate_step(spec)
    if gate is not None:
        cfg["gate_by_breast"] = True
    cfg.update(
        {
            "skip_unreadable": False,
            "skipped": {"_target_": "monai_cbis.data.skips.SkippedItems"},
            "skipped_file": "$@output_dir + '/skipped.json'",
        }
    )
    cfg.update(
        {
            "device": "$torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
            "network_def": spec.network_def(False),
            "channels_last": spec.channels_last,
            "network": "$monai_cbis.networks.place_network(@network_def, @device, @channels_last)",
            **family.components(spec),
            "preset": spec.preset_config(**spec.inference_preset_args),
            "preprocessing": "$@preset.inference()",
            "inputs": _inputs(family, level),
            "items": readable_items_config("", dataset_dir="@dataset_dir", cache_dir=None),
            "dataset": {"_target_": "Dataset", "data": "@items", "transform": "@preprocessing"},
            "dataloader": {
                "_target_": "DataLoader",
                "dataset": "@dataset",
                "batch_size": 1,
                "shuffle": False,
                "num_workers": 0,
                **({"collate_fn": family.collate_fn} if family.collate_fn is not None else {}),
            },
            "inferer": family.evaluation_inferer,
            "postprocessing": {"_target_": "Compose", "transforms": family.inference_postprocessing(spec, level)},
            "handlers": [
                *_load_model("$@bundle_root + '/models/model.pt'"),
                skipped_report_config("@skipped_file"),
                *family.inference_handlers,
                *([{"_target_": "monai_cbis.handlers.RemovedFindingsLogger"}] if gate is not None else []),
            ],
            "evaluator": {
                "_target_": family.evaluator_target,
                "device": "@device",
                "val_data_loader": "@dataloader",
                "network": "@network",
                "inferer": "@inferer",
                "postprocessing": "@postprocessing",
                "val_handlers": "@handlers",
                **family.engine_args,
            },
            "initialize": ["$monai.utils.set_determinism(seed=0)"],
            "run": ["$@evaluator.run()"],
        }
    )
    return cfg
