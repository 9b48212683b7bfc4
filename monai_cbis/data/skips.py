"""What a run left out: one ledger of skipped rows and files, written as ``skipped*.json`` and logged.

Every step that leaves something out of a run adds its entries here, each with a ``path`` (or ``""``), a CSV
``row`` (or ``None``), a ``reason`` and a ``detail``, and the ``stage`` that left it out:

* ``index``: the collection's index skipped a CSV row or a file (truncated DICOM, missing mask, wrong-size mask; see
  :mod:`monai_cbis.data.indexer`); the entry is the index's own, so it also names the CSV file and the woman;
* ``input``: an inference folder holds a file that is no 2-D DICOM/PNG/JPEG image (another type, an empty file, a
  3-D volume, a damaged header; see :func:`monai_cbis.data.inference_inputs.folder_items`);
* ``load``: a file passed the index but its pixels do not decode, and the run was started with
  ``--skip_unreadable true`` (see :func:`monai_cbis.transforms.readable_items`);
* ``boxes``: a detector's item whose lesion masks give no box (an empty mask, a lesion outside the breast crop), or
  one lesion of an item that gives none (see :func:`monai_cbis.transforms.box_items`).

A bundle config makes one :class:`SkippedItems` (``"skipped"``), hands it to the functions that build its items,
and :class:`monai_cbis.evaluation.SkippedFilesHandler` logs the counts and writes the list when the run starts.
The same item list built twice (training and validation read the same index) is recorded once. This module imports
neither PyTorch nor MONAI.

Example:
    >>> ledger = SkippedItems()
    >>> ledger.add({"reason": "image_unreadable", "path": "a/1-1.dcm", "detail": "truncated DICOM"}, stage="index")
    >>> ledger.counts()
    {'image_unreadable': 1}
    >>> ledger.summary()
    'skipped 1 row or file: image_unreadable=1'
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping

from ..atomic import atomic_write_json

__all__ = ["STAGES", "SkippedItems", "describe_skip", "where"]

#: Where a run can leave a row or file out (see the module docstring).
STAGES = ("index", "input", "load", "boxes")

#: Reasons the index reports that leave nothing out (the row is used; only its unused crop is missing).
_KEPT = frozenset({"crop_missing"})


def where(entry: Mapping) -> str:
    """The file an entry is about, else its CSV file and row, else its series folder (``"?"`` if none)."""
    if entry.get("path"):
        return str(entry["path"])
    if entry.get("csv_file"):
        return f"{entry['csv_file']} row {entry.get('row')}"
    return str(entry.get("series") or "?")


def describe_skip(entry: Mapping) -> str:
    """One line for a log or a terminal: ``<path or CSV row>: <reason> (<detail>)``.

    Example:
        >>> describe_skip({"path": "/d/x.dcm", "reason": "file_unreadable", "detail": "/d/x.dcm: not a DICOM file"})
        '/d/x.dcm: file_unreadable (not a DICOM file)'
    """
    place = where(entry)
    detail = " ".join(str(entry.get("detail") or "").split())
    if detail.startswith(f"{place}: "):  # the detail usually starts with the path already
        detail = detail[len(place) + 2 :]
    return f"{place}: {entry.get('reason')}" + (f" ({detail})" if detail else "")


class SkippedItems:
    """The ledger of one run's skipped rows and files (see the module docstring).

    Attributes:
        entries: the recorded entries, in the order they were added, each with ``path``, ``row``, ``reason``,
            ``detail`` and ``stage`` (and whatever else the source gave: CSV file, woman, section).
    """

    def __init__(self) -> None:
        self.entries: list[dict] = []
        self._seen: set[tuple] = set()

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entry: Mapping, stage: str, section: str | None = None) -> None:
        """Record one skipped row or file (an entry already recorded is ignored).

        Args:
            entry: at least ``reason``; ``path``, ``row`` (or ``csv_row``), ``csv_file`` and ``detail`` when known.
            stage: one of :data:`STAGES`.
            section: the datalist section the item belonged to, when known (``load`` stage).

        Raises:
            ValueError: an unknown ``stage``, or an entry without ``reason``.
        """
        if stage not in STAGES:
            raise ValueError(f"Unsupported stage: {stage!r}, available options are {list(STAGES)}.")
        if not entry.get("reason"):
            raise ValueError(f"A skipped entry needs a 'reason': {dict(entry)!r}.")
        if entry["reason"] in _KEPT:
            return
        out = {"path": entry.get("path") or "", "row": entry.get("row", entry.get("csv_row")), **entry}
        out.setdefault("detail", "")
        out["stage"] = stage
        if section is not None:
            out["section"] = section
        key = (out["path"], out.get("csv_file"), out["row"], out["reason"], out["stage"])
        if key not in self._seen:
            self._seen.add(key)
            self.entries.append(out)

    def extend(self, entries: Iterable[Mapping], stage: str, section: str | None = None) -> None:
        """:meth:`add` each entry."""
        for entry in entries:
            self.add(entry, stage, section)

    def counts(self) -> dict[str, int]:
        """Entries per reason, sorted by reason."""
        return dict(sorted(Counter(e["reason"] for e in self.entries).items()))

    def summary(self) -> str:
        """One line: how many rows and files were skipped, by reason."""
        n = len(self.entries)
        if not n:
            return "skipped no row or file"
        by_reason = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return f"skipped {n} row{'' if n == 1 else 's'} or file{'' if n == 1 else 's'}: {by_reason}"

    def as_dict(self) -> dict:
        """The JSON report: ``count``, ``by_reason``, ``by_stage`` and the full list under ``skipped``."""
        return {
            "count": len(self.entries),
            "by_reason": self.counts(),
            "by_stage": dict(sorted(Counter(e["stage"] for e in self.entries).items())),
            "skipped": list(self.entries),
        }

    def write(self, path: str | os.PathLike) -> str:
        """Write :meth:`as_dict` to ``path`` atomically (a later step may read it); returns the path."""
        return atomic_write_json(self.as_dict(), path)
