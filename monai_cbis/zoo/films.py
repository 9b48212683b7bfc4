"""The ``configs/evaluate_films.json`` template: a network trained on lesion crops, evaluated on the whole test films.

Paper B's segmenters (``unet_roi``, ``deeplabv3plus_r50``) are trained and evaluated on crops around known lesions,
so their ``evaluate.json`` cannot say how many lesions they find at how many false marks per image. This file,
layered on train.json as evaluate.json is, runs the same checkpoint over whole films and writes the segmentation
report with its lesion level (FROC, breakdown) into ``eval_films/``, beside the crop evaluation's ``eval/``:

* image-level items of the test section (every lesion of a film, with the lesion index map), the items of the
  level the crops are cut from (``ItemLevel.films``);
* the whole-film preprocessing (``highres`` preset: trim, breast crop, film divided by an integer, flip, CLAHE) at
  the film scale the crops were trained at: ``film_downsample`` (``"auto"``: derived from the training crops by
  :func:`monai_cbis.transforms.film_scale`, see :mod:`monai_cbis.transforms.crop_scale`; recorded as
  ``film_scale`` in ``metrics.json``);
* the family's ``film_inferer`` (a sliding window of the network's ``image_size``; ``sw_overlap``, ``sw_mode``,
  ``sw_batch_size``), its validation post-processing, breast gate (``gate_by_breast``) and ``eval_geometry``;
* the family's report handler with ``lesion_match_by`` of the film level and ``model_name`` "<bundle> (whole
  films)", so ``python -m monai_cbis report`` shows it as a row of its own.

Written only for the bundles it applies to (:func:`evaluate_films_config` returns None for the others): a family
with a ``film_inferer`` at an item level cut from films.
"""

from __future__ import annotations

import dataclasses

from .families import breast_gate_step, get_family
from .inference import evaluation_run
from .levels import get_level
from .specs import BundleSpec
from .training import validation_postprocessing

__all__ = ["evaluate_films_config", "FILM_ITEM_KEYS", "FILM_PRESET"]

#: the keys of a whole film's item: the film, its lesion masks (one per CSV row) and its side (for the flip).
FILM_ITEM_KEYS = ("image", "label", "laterality")
#: the preset that prepares whole films at an integer fraction of their resolution.
FILM_PRESET = "highres"


def _film_scale(spec: BundleSpec) -> dict:
    """``film_downsample`` and the components that resolve it (the training section's lesion items, read without
    adding to the evaluation's skip ledger)."""
    family, level = get_family(spec.family), get_level(spec.level)
    items = {k: v for k, v in level.items(spec, family, "training", True).items() if k != "skipped"}
    return {
        "film_downsample": "auto",
        "film_scale_items": items,
        "film_scale": {
            "_target_": "monai_cbis.transforms.film_scale",
            "downsample": "@film_downsample",
            "preset": "@preset",
            "items": "@film_scale_items",
            "cache_dir": "@cache_dir",
        },
    }


def evaluate_films_config(spec: BundleSpec) -> dict | None:
    """``configs/evaluate_films.json`` (layered on train.json), or None where it does not apply."""
    family, level = get_family(spec.family), get_level(spec.level)
    if family.film_inferer is None or level.films is None:
        return None
    films = get_level(level.films)
    film_spec = dataclasses.replace(spec, level=films.name, item_keys=FILM_ITEM_KEYS)  # the bundle, seeing films
    steps = validation_postprocessing(film_spec, family)  # with the breast gate that films get (breast_gate_step)
    gate = breast_gate_step(film_spec)
    if family.original_geometry is not None:
        steps += family.original_geometry(spec)
    handler = {**family.report_handler, "model_name": f"{spec.name} (whole films)"}
    if family.report_level_args is not None:
        handler.update(family.report_level_args(films))
    handler.update({"geometry": "@eval_geometry", "extra_fields": {"film_scale": "@film_scale"}})
    return {
        "output_dir": "$@bundle_root + '/eval_films'",
        "skipped_file": "$@output_dir + '/skipped_evaluation.json'",
        **_film_scale(spec),
        "film_preset": {
            "_target_": "monai_cbis.transforms.get_preset",
            "name": FILM_PRESET,
            "downsample": "$@film_scale['downsample']",
            "patch_size": "@image_size",
            "out_channels": spec.input_channels,
            # the contrast enhancement the network was trained with (a --preset#clip_limit override included)
            "clip_limit": "$@preset.params['clip_limit']",
            "tile_grid_size": "$@preset.params['tile_grid_size']",
        },
        "sw_batch_size": 4,
        "sw_overlap": 0.25,
        "sw_mode": "gaussian",
        **({"gate_by_breast": True} if gate else {}),
        "eval_geometry": "working",
        "validate#section_items": films.items(film_spec, family, "test", True),
        "validate#preprocessing": "$@film_preset.inference()",
        "validate#dataloader#batch_size": 1,
        "validate#inferer": dict(family.film_inferer),
        "validate#postprocessing": {"_target_": "Compose", "transforms": steps},
        **evaluation_run(handler),
    }
