"""What a bundle's item level means for its configs: how the items are read and where inference writes its outputs.

The level uses the data layer's vocabulary (:data:`monai_cbis.data.datalist.LEVELS`): ``"image"`` is one item per
full mammogram, ``"abnormality"`` one item per CSV row (a lesion). A bundle's family (:mod:`.families`) says what
an item is scored against; its level says which items there are. Each level is one :class:`ItemLevel` in
:data:`LEVELS`.

Example:
    >>> get_level("abnormality").reads_datalist
    True
    >>> get_level("lesion")
    Traceback (most recent call last):
    ...
    ValueError: Unsupported level: 'lesion', available options are ['image', 'abnormality'].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .families import BundleFamily
    from .specs import BundleSpec

__all__ = ["ItemLevel", "IMAGE", "ABNORMALITY", "LEVELS", "get_level"]


@dataclass(frozen=True)
class ItemLevel:
    """One item level of the bundles.

    Attributes:
        name: the data layer's level name (``"image"`` or ``"abnormality"``).
        items: ``(spec, family, section, split_params) -> dict``, the ``section_items`` config of a train/validate
            section (the collection's items; the run's skip ledger ``@skipped`` receives what the index left out).
        drop_last: whether the training loader drops its last incomplete batch.
        reads_datalist: whether ``inference.json`` also takes a ``datalist`` (and the ``task`` that filters it).
        inference_items: the ``inputs`` config of ``inference.json`` (what it runs on, before decoding).
        output_root: expression for the folder the written output files mirror (``SaveImaged``'s ``data_root_dir``).
        output_name_key: the key whose file names a written prediction (several predictions per film), or None to
            name it after its image.
        breast_gate: the items are whole films, so the family's breast gate removes findings outside the breast
            (:func:`~monai_cbis.zoo.families.breast_gate_step`).
        film_geometry: the items are whole films whose mask files have the film's size, so an evaluation can score
            at the original film's geometry (``BundleFamily.original_geometry``).
        lesion_match_by: how an evaluated item is tied to its CSV rows in a lesion-level report: ``"image"`` (all
            rows of its film) or ``"label"`` (its label file is one row's mask), see
            :class:`monai_cbis.evaluation.lesion_attributes.LesionAttributes`.
        films: the level of the whole films these items are cut from (``"image"`` for lesion crops), where a
            family with a ``film_inferer`` also evaluates its network on those films (``evaluate_films.json``,
            :mod:`monai_cbis.zoo.films`); None: the items are whole films already.
    """

    name: str
    items: Callable[[BundleSpec, BundleFamily, str, bool], dict]
    drop_last: bool
    reads_datalist: bool
    inference_items: dict
    output_root: str
    output_name_key: str | None = None
    lesion_match_by: str = "image"
    breast_gate: bool = False
    film_geometry: bool = False
    films: str | None = None


def _split_args(split_params: bool) -> dict:
    return {"split": "@split", "seed": "@seed", "val_frac": "@val_frac"} if split_params else {}


def _image_items(spec: BundleSpec, family: BundleFamily, section: str, split_params: bool) -> dict:
    return {
        "_target_": "monai_cbis.data.items.section_items",
        "dataset_dir": "@data_root",
        "section": section,
        "task": "@task",
        "level": "image",
        **_split_args(split_params),
        **family.items_extra,
        "keys": list(spec.item_keys),
        "skipped": "@skipped",
    }


def _abnormality_items(spec: BundleSpec, family: BundleFamily, section: str, split_params: bool) -> dict:
    return {
        "_target_": "monai_cbis.data.items.lesion_items",
        "dataset_dir": "@data_root",
        "section": section,
        "target": family.items_target,
        "task": "@task",
        **_split_args(split_params),
        **family.items_extra,
        "skipped": "@skipped",
    }


#: One item per full mammogram.
IMAGE = ItemLevel(
    name="image",
    items=_image_items,
    drop_last=False,
    breast_gate=True,
    film_geometry=True,
    reads_datalist=False,
    inference_items={
        "_target_": "monai_cbis.data.inference_inputs.inference_items",
        "dataset_dir": "@dataset_dir",
        "skipped": "@skipped",
    },
    output_root="$monai_cbis.data.inference_inputs.inference_root(@dataset_dir)",
)

#: One item per abnormality (CSV row). Training drops a last batch of one: it breaks batch norm on 1 x 1 maps
#: (DeepLabV3+'s ASPP pooling). A film has several lesions, so each output is named after the ROI mask it refines.
ABNORMALITY = ItemLevel(
    name="abnormality",
    items=_abnormality_items,
    drop_last=True,
    reads_datalist=True,
    inference_items={
        "_target_": "monai_cbis.data.inference_inputs.lesion_inference_items",
        "dataset_dir": "@dataset_dir",
        "datalist": "@datalist",
        "task": "@task",
        "skipped": "@skipped",
    },
    output_root="$monai_cbis.data.inference_inputs.lesion_inference_root(@dataset_dir, @datalist)",
    output_name_key="mask",
    lesion_match_by="label",
    films="image",
)

#: level name -> level; the names are those of :data:`monai_cbis.data.datalist.LEVELS`.
LEVELS: dict[str, ItemLevel] = {lv.name: lv for lv in (IMAGE, ABNORMALITY)}


def get_level(name: str) -> ItemLevel:
    """The :class:`ItemLevel` called ``name``.

    Raises:
        ValueError: ``name`` is not in :data:`LEVELS` (the message lists the options).
    """
    if name not in LEVELS:
        raise ValueError(f"Unsupported level: {name!r}, available options are {list(LEVELS)}.")
    return LEVELS[name]
