"""``CBISDDSMDataset``: a CBIS-DDSM download (any layout) as a MONAI ``CacheDataset``, in the MedNISTDataset mould.

Example:
    >>> from monai_cbis.data import CBISDDSMDataset
    >>> train = CBISDDSMDataset("/data/CBIS-DDSM", section="training", task="mass", level="image")  # doctest: +SKIP
    >>> train[0]["image"], train[0]["label"]  # doctest: +SKIP
    ('/data/CBIS-DDSM/Mass-Training_P_00001_LEFT_CC/.../000000.dcm', ['/data/.../000001.dcm'])
    >>> val = CBISDDSMDataset("/data/CBIS-DDSM", section="validation", index=train.index)  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from monai.data import CacheDataset
from monai.transforms import Randomizable

from .datalist import LEVELS, build_datalist
from .indexer import CollectionIndex, index_collection
from .items import datalist_section
from .splits import SECTIONS, SPLITS

__all__ = ["CBISDDSMDataset", "TASKS"]

TASKS = ("mass", "calcification", "both")


class CBISDDSMDataset(Randomizable, CacheDataset):
    """CBIS-DDSM items for one section of a split, at image or abnormality level.

    The download is indexed (CSV rows matched to files, mask and crop told apart by content, bad rows skipped and
    reported) and split by woman. Items are dictionaries of file paths and metadata (see
    :mod:`monai_cbis.data.datalist`); pass ``transform`` to load and preprocess them. They are the items that
    :func:`monai_cbis.data.section_items` gives the bundle configs for the same arguments, shuffled with ``seed``.

    Args:
        root_dir: a CBIS-DDSM download in any supported layout (classic TCIA, NBIA descriptive, Kaggle JPEG), or a
            synthetic one from :func:`monai_cbis.data.synthetic.make_synthetic_cbis`.
        section: ``training``, ``validation`` or ``test``.
        task: ``mass``, ``calcification`` or ``both``.
        level: ``image`` (one item per mammogram, ``label`` = list of lesion masks) or ``abnormality`` (one per row).
        split: ``patient`` (leak-free, default) or ``official``. See :mod:`monai_cbis.data.splits`.
        transform: transforms applied to each item.
        seed: seeds ``self.R``, which draws the validation women.
        val_frac: fraction of training women moved to validation.
        include_wrong_size_masks: keep rows whose mask size differs from the image (flagged ``mask_size_ok``).
        index: a :class:`~monai_cbis.data.indexer.CollectionIndex` of ``root_dir`` to reuse (skips re-scanning
            when building several sections; it must have been built with the same ``task``).
        keys: keep only these item keys, e.g. ``["image", "label", "laterality"]``. Image-level items carry
            lists of different lengths (``abnormality_ids``, ``pathologies``) that a ``DataLoader`` cannot batch;
            ``None`` keeps every key.
        cache_num, cache_rate, num_workers, progress, copy_cache, as_contiguous, runtime_cache: as for
            :class:`monai.data.CacheDataset`. ``cache_rate`` defaults to 0: caching full-size mammograms in memory
            takes about 30 MB each; cache after a resizing transform.

    Raises:
        FileNotFoundError: ``root_dir`` is missing, holds no case CSVs or no CBIS-DDSM images (the message says
            what was expected).
        ValueError: an unsupported ``section``, ``task``, ``level`` or ``split`` (the message lists the options).
    """

    def __init__(
        self,
        root_dir: str | Path,
        section: str,
        task: str = "both",
        level: str = "image",
        split: str = "patient",
        transform: Sequence[Callable] | Callable = (),
        seed: int = 0,
        val_frac: float = 0.2,
        include_wrong_size_masks: bool = False,
        index: CollectionIndex | None = None,
        keys: Sequence[str] | None = None,
        cache_num: int = sys.maxsize,
        cache_rate: float = 0.0,
        num_workers: int | None = 1,
        progress: bool = True,
        copy_cache: bool = True,
        as_contiguous: bool = True,
        runtime_cache: bool = False,
    ) -> None:
        for name, value, allowed in (
            ("section", section, SECTIONS),
            ("task", task, TASKS),
            ("level", level, LEVELS),
            ("split", split, SPLITS),
        ):
            if value not in allowed:
                raise ValueError(f"Unsupported {name}: {value!r}, available options are {list(allowed)}.")
        self.section, self.task, self.level, self.split = section, task, level, split
        self.val_frac = val_frac
        self.set_random_state(seed=seed)
        if index is None:
            index = index_collection(
                root_dir, task=task, include_wrong_size_masks=include_wrong_size_masks, progress=progress
            )
        elif index.task != task:
            raise ValueError(f"index was built for task {index.task!r}, but task={task!r} was requested.")
        self.index = index
        self.keys = list(keys) if keys is not None else None
        self.datalist = build_datalist(index, level=level, split=split, seed=seed, val_frac=val_frac, rng=self.R)
        data = self._generate_data_list()
        CacheDataset.__init__(
            self,
            data=data,
            transform=transform,
            cache_num=cache_num,
            cache_rate=cache_rate,
            num_workers=num_workers,
            progress=progress,
            copy_cache=copy_cache,
            as_contiguous=as_contiguous,
            runtime_cache=runtime_cache,
        )

    def randomize(self, data: list) -> None:
        """Shuffle ``data`` in place with ``self.R`` (item order within a section)."""
        self.R.shuffle(data)

    def _generate_data_list(self) -> list[dict]:
        """The section's items (:func:`~monai_cbis.data.items.datalist_section`, the rule the bundles' items use),
        reordered with ``self.R``. An empty section gives an empty dataset, as in MONAI's datasets."""
        data = datalist_section(self.datalist, self.section, keys=self.keys, allow_empty=True)
        # The validation draw above consumed self.R identically for every section built with the same seed, so the
        # sections stay disjoint; the item order is then shuffled reproducibly.
        order = np.arange(len(data))
        self.randomize(order)
        return [data[i] for i in order]

    @property
    def skipped(self) -> list[dict]:
        """Every skipped row or file with its reason."""
        return self.datalist["skipped"]

    @property
    def summary(self) -> dict:
        """Counts per section and per skip reason."""
        return self.datalist["summary"]

    def get_num_classes(self) -> int:
        """2: benign (``BENIGN`` and ``BENIGN_WITHOUT_CALLBACK``) and malignant, item key ``malignant``."""
        return 2
