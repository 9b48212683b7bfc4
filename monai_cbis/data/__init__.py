"""CBIS-DDSM data layer: case CSVs -> records -> files on disk -> datalists and splits -> items -> Dataset.

``records`` (CSV quirks) -> ``layouts`` (classic / NBIA / Kaggle trees) -> ``indexer`` (mask vs crop by content,
skips) -> ``splits`` + ``datalist`` (image and abnormality levels) -> ``items`` (one section, the rule shared by
the dataset and the bundle configs) -> ``dataset`` (``CBISDDSMDataset``) and ``sampling`` (class balance).

Around that flow: ``demo`` (which folder to read; the embedded synthetic demo when ``dataset_dir`` is empty),
``inference_inputs`` (what a bundle's inference runs on), ``verify`` and ``synthetic``.
"""

from .datalist import LEVELS, abnormality_item, build_datalist, image_items, write_datalist
from .demo import DEMO, DEMO_NAMES, cache_root, demo_data_dir, is_demo, resolve_dataset_dir
from .files import ImageHeader, UnreadableImageError, read_array, read_header
from .indexer import SKIP_REASONS, CollectionIndex, IndexedRecord, index_collection, looks_binary
from .inference_inputs import (
    DATALIST_SECTIONS,
    INPUT_SUFFIXES,
    folder_items,
    inference_items,
    inference_root,
    lesion_inference_items,
    lesion_inference_root,
    read_inference_datalist,
)
from .items import LESION_TARGETS, datalist_section, lesion_items, pathology_classes, section_items
from .layouts import LAYOUTS, Layout, LayoutError, detect_layout
from .records import (
    ABNORMALITY_TYPES,
    CASE_CSV_NAMES,
    PATHOLOGIES,
    CaseCSVError,
    CaseRecord,
    RowProblem,
    find_case_csvs,
    load_case_records,
    read_case_csv,
)
from .splits import SECTIONS, SPLITS, SplitPlan, plan_split
from .synthetic import SyntheticCollection, SyntheticRow, load_synthetic_collection, make_synthetic_cbis
from .verify import verify_collection

# The dataset and samplers pull in MONAI and PyTorch (seconds to import); the CLI (index, verify, synth) does not.
_LAZY = {
    "CBISDDSMDataset": ".dataset",
    "TASKS": ".dataset",
    "class_balanced_sampler": ".sampling",
    "class_counts": ".sampling",
    "class_index": ".sampling",
    "class_weights": ".sampling",
    "CLASS_BALANCE": ".sampling",
    "loss_class_weights": ".sampling",
    "train_sampler": ".sampling",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ABNORMALITY_TYPES",
    "CASE_CSV_NAMES",
    "CLASS_BALANCE",
    "DATALIST_SECTIONS",
    "DEMO",
    "DEMO_NAMES",
    "INPUT_SUFFIXES",
    "LAYOUTS",
    "LESION_TARGETS",
    "LEVELS",
    "PATHOLOGIES",
    "SECTIONS",
    "SKIP_REASONS",
    "SPLITS",
    "TASKS",
    "CBISDDSMDataset",
    "CaseCSVError",
    "CaseRecord",
    "CollectionIndex",
    "ImageHeader",
    "IndexedRecord",
    "Layout",
    "LayoutError",
    "RowProblem",
    "SplitPlan",
    "SyntheticCollection",
    "SyntheticRow",
    "UnreadableImageError",
    "abnormality_item",
    "build_datalist",
    "cache_root",
    "class_balanced_sampler",
    "class_counts",
    "class_index",
    "class_weights",
    "datalist_section",
    "demo_data_dir",
    "detect_layout",
    "find_case_csvs",
    "folder_items",
    "image_items",
    "index_collection",
    "inference_items",
    "inference_root",
    "is_demo",
    "lesion_inference_items",
    "lesion_inference_root",
    "lesion_items",
    "load_case_records",
    "load_synthetic_collection",
    "looks_binary",
    "loss_class_weights",
    "make_synthetic_cbis",
    "pathology_classes",
    "plan_split",
    "read_array",
    "read_case_csv",
    "read_header",
    "read_inference_datalist",
    "resolve_dataset_dir",
    "section_items",
    "train_sampler",
    "verify_collection",
    "write_datalist",
]
