"""Items: one section of a split CBIS-DDSM collection, as the list of dicts a Dataset or a bundle iterates.

Where it sits in the flow: index (:mod:`~monai_cbis.data.indexer`) -> sections at image or abnormality level
(:func:`~monai_cbis.data.datalist.build_datalist`) -> **items** -> :class:`~monai_cbis.data.CBISDDSMDataset` or a
bundle config's ``DataLoader``.

:func:`datalist_section` is the one rule for taking a section's items (a known section, only the ``keys`` a
pipeline batches, the first ``max_items``, a clear error when the section is empty). Both consumers use it:

* :class:`~monai_cbis.data.CBISDDSMDataset` splits with its own ``self.R`` and then shuffles the items with it;
* the bundle configs call :func:`section_items` (image or abnormality level) or :func:`lesion_items` (paper B's
  lesion-level keys and class labels). These keep the datalist order and index each folder once per process.

With the same ``seed`` both give the same items for a section (the dataset only reorders them). This module imports
neither PyTorch nor MONAI.

Example (in a bundle config)::

    "train_items": {"_target_": "monai_cbis.data.section_items", "dataset_dir": "@data_root",
                    "section": "training", "task": "mass", "level": "image"}

Example:
    >>> pathology_classes(2)
    ('benign', 'malignant')
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import lru_cache

from .case_fields import CASE_KEY
from .datalist import build_datalist
from .indexer import CollectionIndex, index_collection
from .skips import SkippedItems
from .splits import SECTIONS

__all__ = ["LESION_TARGETS", "datalist_section", "lesion_items", "pathology_classes", "section_items"]

#: What :func:`lesion_items` labels each lesion with: its ROI mask (segmentation) or its pathology class.
LESION_TARGETS = ("mask", "pathology")

#: Class names by number of classes; the malignant class is always the last index (``num_classes - 1``).
_CLASS_NAMES = {
    2: ("benign", "malignant"),
    3: ("benign_without_callback", "benign", "malignant"),
}


def _check_section(section: str) -> None:
    if section not in SECTIONS:
        raise ValueError(f"Unsupported section: {section!r}, available options are {list(SECTIONS)}.")


def datalist_section(
    datalist: Mapping,
    section: str,
    keys: Sequence[str] | None = None,
    max_items: int | None = None,
    allow_empty: bool = False,
    keep_case: bool = False,
) -> list[dict]:
    """The items of one ``section`` of a datalist from :func:`~monai_cbis.data.build_datalist`, in datalist order.

    Args:
        datalist: ``build_datalist(index, ...)``.
        section: ``training``, ``validation`` or ``test``.
        keys: keep only these item keys (what the pipeline uses; variable-length metadata such as
            ``abnormality_ids`` cannot be batched); ``None`` keeps all.
        max_items: keep only the first N items (quick runs); ``None`` (or 0) keeps all.
        allow_empty: return ``[]`` for an empty section instead of raising (a ``Dataset`` may be empty; a bundle
            that trains on nothing is a mistake worth stopping for).
        keep_case: with ``keys``, also keep the ``case`` dict (the name and fields the evaluation reports use,
            :mod:`monai_cbis.data.case_fields`).

    Returns:
        A new list (the datalist's own dicts, or new ones holding only ``keys``).

    Raises:
        ValueError: an unknown section, or an empty one without ``allow_empty`` (the message gives the section
            sizes and the split settings).
    """
    _check_section(section)
    items = datalist[section]
    if not items and not allow_empty:
        raise ValueError(
            f"The {section} section of {datalist['root']} is empty (task={datalist['task']}, "
            f"level={datalist['level']}, split={datalist['split']}, val_frac={datalist['val_frac']}); "
            f"section sizes: {datalist['summary']['sections']}."
        )
    items = items[:max_items] if max_items else items
    if keys is None:
        return list(items)
    keys = list(keys) + ([CASE_KEY] if keep_case and CASE_KEY not in keys else [])
    return [{k: item[k] for k in keys if k in item} for item in items]


@lru_cache(maxsize=8)
def _index(root: str, task: str, include_wrong_size_masks: bool) -> CollectionIndex:
    """The index of ``root``, built once per process (each bundle config builds several sections from it)."""
    return index_collection(root, task=task, include_wrong_size_masks=include_wrong_size_masks)


def section_items(
    dataset_dir: str,
    section: str,
    task: str = "mass",
    level: str = "image",
    split: str = "patient",
    seed: int = 0,
    val_frac: float = 0.2,
    max_items: int | None = None,
    include_wrong_size_masks: bool = False,
    keys: list[str] | None = None,
    skipped: SkippedItems | None = None,
) -> list[dict]:
    """The datalist items of one section (the collection is indexed once per process and reused).

    The same items as ``CBISDDSMDataset(dataset_dir, section, ..., seed=seed, keys=keys)``, in datalist order
    instead of shuffled.

    Args:
        dataset_dir: a folder from :func:`~monai_cbis.data.resolve_dataset_dir`.
        section: ``training``, ``validation`` or ``test``.
        task, level, split, seed, val_frac, include_wrong_size_masks: as :func:`monai_cbis.data.build_datalist`.
        max_items, keys: as :func:`datalist_section`; ``keys`` always keeps the ``case`` dict (the case name and CSV
            fields the evaluation reports name their rows and overlays by, :mod:`monai_cbis.data.case_fields`).
        skipped: a run's ledger; receives every row and file the index and the datalist left out (``index``
            stage), so that the run can report them.

    Raises:
        ValueError: an unknown section, or a section with no items (the message gives the section sizes).
    """
    _check_section(section)  # before indexing: a typo should not cost a scan of the collection
    index = _index(os.path.abspath(dataset_dir), task, include_wrong_size_masks)
    dl = build_datalist(index, level=level, split=split, seed=seed, val_frac=val_frac, warn=False)
    if skipped is not None:
        skipped.extend(dl["skipped"], stage="index")
    return datalist_section(dl, section, keys=keys, max_items=max_items, keep_case=True)


def pathology_classes(num_classes: int = 2) -> tuple[str, ...]:
    """Class names of the benign/malignant label: 2 classes (``BENIGN_WITHOUT_CALLBACK`` counts as benign, as in
    CBIS-DDSM's own two-class use) or 3 (it keeps its own class). Malignant is always the last index.

    CBIS-DDSM has no normal (lesion-free) images: every item is a lesion, so there is no "normal" class.

    Example:
        >>> pathology_classes(3)
        ('benign_without_callback', 'benign', 'malignant')
    """
    if num_classes not in _CLASS_NAMES:
        raise ValueError(f"Unsupported num_classes: {num_classes!r}, available options are {sorted(_CLASS_NAMES)}.")
    return _CLASS_NAMES[num_classes]


def _pathology_index(item: dict, num_classes: int) -> int:
    """The class index of an abnormality-level item's ``pathology`` (see :func:`pathology_classes`)."""
    pathology = str(item.get("pathology") or "").upper()
    if pathology == "MALIGNANT":
        return num_classes - 1
    if pathology in ("BENIGN", "BENIGN_WITHOUT_CALLBACK"):
        return 1 if num_classes == 3 and pathology == "BENIGN" else 0
    raise ValueError(
        f"{item.get('csv_file')} row {item.get('csv_row')}: pathology {item.get('pathology')!r} is not one of "
        "['BENIGN', 'BENIGN_WITHOUT_CALLBACK', 'MALIGNANT']."
    )


def lesion_items(
    dataset_dir: str,
    section: str,
    target: str = "mask",
    task: str = "mass",
    split: str = "patient",
    seed: int = 0,
    val_frac: float = 0.2,
    num_classes: int = 2,
    max_items: int | None = None,
    include_wrong_size_masks: bool = False,
    skipped: SkippedItems | None = None,
) -> list[dict]:
    """One item per lesion (CSV row) for paper B's bundles, with the key names MONAI Label uses.

    Args:
        dataset_dir, section, task, split, seed, val_frac, max_items, include_wrong_size_masks, skipped: as
            :func:`section_items` (``level="abnormality"``).
        target: ``"mask"`` for ROI segmentation: ``{"image": full mammogram, "label": its lesion mask}``;
            ``"pathology"`` for classification: ``{"image", "mask" (to crop around), "label": class index}``.
            Both also carry the lesion's ``case`` dict (:mod:`monai_cbis.data.case_fields`), which the report
            handlers name their rows by.
        num_classes: 2 (benign / malignant) or 3 (``BENIGN_WITHOUT_CALLBACK`` apart), see :func:`pathology_classes`.

    Example:
        >>> lesion_items(root, "training", target="pathology", task="both")[0]["case"]["name"]  # doctest: +SKIP
        'Mass-Training_P_00001_LEFT_CC_1'
        >>> lesion_items(root, "training", target="pathology", task="both")[0]  # doctest: +SKIP
        {'image': '.../1-1.dcm', 'mask': '.../1-2.dcm', 'label': 1, 'case': {...}}
    """
    if target not in LESION_TARGETS:
        raise ValueError(f"Unsupported target: {target!r}, available options are {list(LESION_TARGETS)}.")
    pathology_classes(num_classes)  # validates num_classes
    items = section_items(
        dataset_dir, section, task=task, level="abnormality", split=split, seed=seed, val_frac=val_frac,
        max_items=max_items, include_wrong_size_masks=include_wrong_size_masks, skipped=skipped,
    )  # fmt: skip
    if target == "mask":
        return [{"image": i["image"], "label": i["mask"], CASE_KEY: i[CASE_KEY]} for i in items]
    return [
        {"image": i["image"], "mask": i["mask"], "label": _pathology_index(i, num_classes), CASE_KEY: i[CASE_KEY]}
        for i in items
    ]
