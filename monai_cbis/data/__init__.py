"""CBIS-DDSM data layer: case CSVs -> records -> files on disk -> datalists and splits -> Dataset.

``records`` (CSV quirks) -> ``layouts`` (classic / NBIA / Kaggle trees) -> ``indexer`` (mask vs crop by content,
skips) -> ``splits`` + ``datalist`` (image and abnormality levels) -> ``dataset`` (``CBISDDSMDataset``).
"""

from .datalist import LEVELS, abnormality_item, build_datalist, image_items, write_datalist
from .files import ImageHeader, UnreadableImageError, read_array, read_header
from .indexer import SKIP_REASONS, CollectionIndex, IndexedRecord, index_collection, looks_binary
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
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ABNORMALITY_TYPES",
    "CASE_CSV_NAMES",
    "LAYOUTS",
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
    "class_balanced_sampler",
    "class_counts",
    "class_index",
    "class_weights",
    "detect_layout",
    "find_case_csvs",
    "image_items",
    "index_collection",
    "load_case_records",
    "load_synthetic_collection",
    "looks_binary",
    "make_synthetic_cbis",
    "plan_split",
    "read_array",
    "read_case_csv",
    "read_header",
    "verify_collection",
    "write_datalist",
]
