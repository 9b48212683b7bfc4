"""CBIS-DDSM data layer: case CSVs -> records -> files on disk -> datalists and splits -> Dataset.

``records`` (CSV quirks) -> ``layouts`` (classic / NBIA / Kaggle trees) -> ``indexer`` (mask vs crop by content,
skips) -> ``splits`` + ``datalist`` (image and abnormality levels) -> ``dataset`` (``CBISDDSMDataset``).
"""

from .datalist import LEVELS, abnormality_item, build_datalist, image_items, write_datalist
from .dataset import TASKS, CBISDDSMDataset
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
from .verify import verify_collection

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
    "UnreadableImageError",
    "abnormality_item",
    "build_datalist",
    "detect_layout",
    "find_case_csvs",
    "image_items",
    "index_collection",
    "load_case_records",
    "looks_binary",
    "plan_split",
    "read_array",
    "read_case_csv",
    "read_header",
    "verify_collection",
    "write_datalist",
]
