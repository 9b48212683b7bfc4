"""Synthetic CBIS-DDSM: a small collection written in exactly the real formats, with every known trap.

It is the project's embedded default dataset and an independent check of the indexer: it is written from
``CBIS_DDSM_FACTS.md``, never from the reader's code. Modules, in data-flow order:

* :mod:`.vocabulary`: CSV file and column names (verbatim), descriptor spellings;
* :mod:`.model`: the data model (series, files, lesions, films, full images, CSV rows);
* :mod:`.plan`: the cohort as pure data (women, lesions, films, series, UIDs, CSV rows, where each trap goes);
* :mod:`.drawing`: the pixels (breast, texture, border, label, masses, calcification clusters);
* :mod:`.realistic`: the ``realistic_lesions`` option's lesions, sized in millimetres, contrast by breast density;
* :mod:`.encode`: DICOM and JPEG bytes;
* :mod:`.writers`: layouts, case CSVs, NBIA ``metadata.csv``, Kaggle ``dicom_info.csv``, safe writes;
* :mod:`.collection`: :func:`make_synthetic_cbis` and what it returns.

Example:
    >>> from monai_cbis.data.synthetic import make_synthetic_cbis
    >>> coll = make_synthetic_cbis("/tmp/cbis", layout="classic", cases=40, seed=0)  # doctest: +SKIP
    >>> [r for r in coll.rows if r.swapped][0].csv_name  # doctest: +SKIP
    'mass_case_description_train_set.csv'
"""

from __future__ import annotations

from .collection import (
    DEFAULT_IMAGE_SIZE,
    FULL_IMAGE_SIZE,
    MIN_IMAGE_SIZE,
    SyntheticCollection,
    SyntheticRow,
    load_synthetic_collection,
    make_synthetic_cbis,
)
from .plan import MIN_CASES
from .vocabulary import CALC_COLUMNS, CSV_NAMES, MASS_COLUMNS
from .writers import LAYOUTS, MANIFEST_NAME

__all__ = [
    "make_synthetic_cbis",
    "load_synthetic_collection",
    "SyntheticCollection",
    "SyntheticRow",
    "LAYOUTS",
    "MIN_CASES",
    "CSV_NAMES",
    "MASS_COLUMNS",
    "CALC_COLUMNS",
    "MANIFEST_NAME",
    "DEFAULT_IMAGE_SIZE",
    "FULL_IMAGE_SIZE",
    "MIN_IMAGE_SIZE",
]
