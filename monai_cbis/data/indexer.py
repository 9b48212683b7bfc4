"""Index a CBIS-DDSM download: every usable CSV row with its true full image, mask and crop, and every skip.

The crop and mask columns of the CSVs cannot be trusted (they are swapped on many rows, and which of
``000000``/``000001`` is the mask differs between files), so the decision is made from the images:

* the **mask** is the candidate with exactly the full image's rows x columns (read from headers only);
* when that does not single one out (several or no candidates of that size), the pixels are read and the mask is the
  candidate with only two values (0 and the maximum; for lossy JPEG, nearly all pixels near 0 or the maximum);
* a mask whose size differs from its full image is reported as ``mask_wrong_size`` and skipped, unless
  ``include_wrong_size_masks=True`` (then it is kept and its item says ``mask_size_ok: false``; it is never resized);
* the **crop** is the other candidate (``crop_missing`` is reported when there is none; the row is kept).

Skip reasons (each entry of :attr:`CollectionIndex.skipped` has ``kind``, ``reason``, ``detail`` and the CSV file,
row and woman, or the ``path`` of a file):

=====================  ==========================================================================================
``bad_row``            the CSV row has unusable values (see ``detail``)
``duplicate_row``      a second row for the same image, abnormality type and id
``image_missing``      no full mammogram file for the row
``image_unreadable``   the full mammogram file is damaged or truncated
``roi_missing``        no ROI mask or cropped image file for the row
``mask_wrong_size``    the mask's rows x columns differ from the full image's
``mask_not_found``     ROI files exist but none is a mask of the image (``detail`` lists their sizes)
``mask_ambiguous``     several files look like the row's mask
``crop_missing``       (row kept, ``crop`` is ``None``) no cropped image besides the mask
``file_unreadable``    (``kind: file``) a candidate file that could not be read
=====================  ==========================================================================================

Example:
    >>> index = index_collection("/data/CBIS-DDSM", task="mass")  # doctest: +SKIP
    >>> index.layout, len(index.records), index.summary()["skipped_by_reason"]  # doctest: +SKIP
    ('nbia', 1690, {'mask_wrong_size': 6})
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .files import ImageHeader, UnreadableImageError, is_lossy_path, read_array, read_header
from .layouts import Layout, detect_layout
from .records import ABNORMALITY_TYPES, CaseRecord, RowProblem, load_case_records

__all__ = ["IndexedRecord", "CollectionIndex", "index_collection", "SKIP_REASONS", "looks_binary"]

SKIP_REASONS = (
    "bad_row",
    "duplicate_row",
    "image_missing",
    "image_unreadable",
    "roi_missing",
    "mask_wrong_size",
    "mask_not_found",
    "mask_ambiguous",
    "crop_missing",
    "file_unreadable",
)


@dataclass(frozen=True)
class IndexedRecord:
    """A usable CSV row with its files found and checked.

    Attributes:
        record: the parsed CSV row.
        image: path of the full mammogram; ``image_shape`` its (rows, columns).
        mask: path of the true ROI mask; ``mask_shape`` its (rows, columns); ``mask_size_ok`` whether they equal
            the image's (always true unless wrong-size masks were included).
        crop: path of the true cropped image, or ``None`` when the download lacks it.
        csv_paths_swapped: (classic layout only, else ``None``) whether the CSV's mask column named the crop.
    """

    record: CaseRecord
    image: str
    image_shape: tuple[int, int]
    mask: str
    mask_shape: tuple[int, int]
    crop: str | None
    mask_size_ok: bool = True
    csv_paths_swapped: bool | None = None


@dataclass
class CollectionIndex:
    """The result of :func:`index_collection`.

    Attributes:
        root: the folder that was indexed; ``layout`` and ``image_root`` as detected.
        csv_files: the case CSVs read.
        task: the abnormality types kept.
        records: usable rows of ``task``.
        skipped: one dict per skipped row or file (see the module docstring for the reasons).
        test_women: every woman with a row in an official *test* CSV of any type (used to make training leak-free).
        all_records: every parsed row of every type (also the skipped ones), for split bookkeeping.
    """

    root: str
    layout: str
    image_root: str
    csv_files: list[str]
    task: str
    records: list[IndexedRecord]
    skipped: list[dict]
    all_records: list[CaseRecord] = field(repr=False, default_factory=list)

    @property
    def test_women(self) -> set[str]:
        return {r.patient_id for r in self.all_records if r.split == "test"}

    def summary(self) -> dict:
        """Counts for a report: rows kept, images, skips per reason, CSV mask columns found pointing at crops."""
        swapped = sum(1 for r in self.records if r.csv_paths_swapped)
        return {
            "root": self.root,
            "layout": self.layout,
            "task": self.task,
            "csv_files": [os.path.basename(f) for f in self.csv_files],
            "rows_usable": len(self.records),
            "images": len({r.image for r in self.records}),
            "women": len({r.record.patient_id for r in self.records}),
            "skipped_by_reason": dict(sorted(Counter(s["reason"] for s in self.skipped).items())),
            "csv_mask_column_named_the_crop": swapped if self.layout == "classic" else None,
        }


def _row_skip(rec: CaseRecord, reason: str, detail: str, path: str = "") -> dict:
    return {
        "kind": "row",
        "reason": reason,
        "detail": detail,
        "csv_file": os.path.basename(rec.csv_file),
        "row": rec.row,
        "patient_id": rec.patient_id,
        "abnormality_type": rec.abnormality_type,
        "abnormality_id": rec.abnormality_id,
        "path": path,
    }


def _problem_skip(p: RowProblem) -> dict:
    d = p.as_dict()
    d["csv_file"] = os.path.basename(p.csv_file)
    return {"kind": "row", **d, "path": ""}


def looks_binary(arr: np.ndarray, lossy: bool = False) -> bool:
    """Whether ``arr`` is a two-valued mask (0 and one foreground value).

    Args:
        arr: the stored pixel values.
        lossy: JPEG data: accept compression noise (at least 98 % of pixels within 15 % of 0 or of the maximum).
    """
    hi = int(arr.max()) if arr.size else 0
    if hi <= 0:
        return not lossy  # an all-zero lossless image is an (empty) mask; an all-black JPEG tells nothing
    if not lossy:
        if arr.dtype.kind in "ui" and arr.min() >= 0 and hi < 2**16:
            return int(np.count_nonzero(np.bincount(arr.ravel()))) <= 2
        return np.unique(arr).size <= 2
    low, high = 0.15 * hi, 0.85 * hi
    extreme = np.count_nonzero((arr <= low) | (arr >= high))
    return extreme >= 0.98 * arr.size and hi >= 128


def _read_headers(paths: list[str], num_workers: int, progress: bool) -> dict[str, ImageHeader | str]:
    """Header of each path, or the error message when it cannot be read."""

    def one(p: str) -> ImageHeader | str:
        try:
            return read_header(p)
        except UnreadableImageError as e:
            return str(e)

    out: dict[str, ImageHeader | str] = {}
    with ThreadPoolExecutor(max_workers=max(1, num_workers)) as pool:
        results = pool.map(one, paths)
        if progress:
            from tqdm.auto import tqdm

            results = tqdm(results, total=len(paths), desc="Reading image headers", unit="file")
        for p, h in zip(paths, results, strict=True):
            out[p] = h
    return out


def index_collection(
    root: str | os.PathLike,
    task: str = "both",
    include_wrong_size_masks: bool = False,
    num_workers: int = 8,
    progress: bool = False,
) -> CollectionIndex:
    """Find every usable row of a CBIS-DDSM download and the true files behind it.

    Args:
        root: the download folder, in any supported layout (see :mod:`monai_cbis.data.layouts`).
        task: ``"mass"``, ``"calcification"`` or ``"both"``.
        include_wrong_size_masks: keep rows whose mask size differs from the image (flagged, never resized).
        num_workers: threads reading file headers.
        progress: show a progress bar.

    Raises:
        FileNotFoundError: ``root`` is missing, has no case CSVs, or holds no CBIS-DDSM images.
        monai_cbis.data.records.CaseCSVError: a CSV lacks required columns.
        ValueError: an unknown ``task`` (``"calc"`` would otherwise keep no row at all).
    """
    tasks = (*ABNORMALITY_TYPES, "both")
    if task not in tasks:
        raise ValueError(f"Unsupported task: {task!r}, available options are {list(tasks)}.")
    root = os.path.abspath(root)
    all_records, problems, csv_files = load_case_records(root, task="both")
    layout = detect_layout(root)
    skipped: list[dict] = [_problem_skip(p) for p in problems]
    wanted: list[CaseRecord] = []
    seen: set[tuple] = set()
    for rec in all_records:
        if task not in ("both", rec.abnormality_type):
            continue
        key = (rec.image_path, rec.abnormality_type, rec.abnormality_id)
        if key in seen:
            skipped.append(_row_skip(rec, "duplicate_row", f"another row already has {key}"))
            continue
        seen.add(key)
        wanted.append(rec)

    image_cands = {id(r): layout.image_candidates(r) for r in wanted}
    roi_cands = {id(r): layout.roi_candidates(r) for r in wanted}
    paths = sorted({p for c in (*image_cands.values(), *roi_cands.values()) for p in c})
    headers = _read_headers(paths, num_workers, progress)
    for p, h in headers.items():
        if isinstance(h, str):
            skipped.append({"kind": "file", "reason": "file_unreadable", "detail": h, "path": p})

    records: list[IndexedRecord] = []
    for rec in wanted:
        image, why = _pick_image(rec, image_cands[id(rec)], headers, layout)
        if image is None:
            skipped.append(_row_skip(rec, *why))
            continue
        indexed, skips = _resolve_roi(rec, image, roi_cands[id(rec)], headers, layout, include_wrong_size_masks)
        skipped.extend(skips)
        if indexed is not None:
            records.append(indexed)
    return CollectionIndex(
        root=root,
        layout=layout.name,
        image_root=layout.image_root,
        csv_files=csv_files,
        task=task,
        records=records,
        skipped=skipped,
        all_records=all_records,
    )


def _pick_image(
    rec: CaseRecord, cands: list[str], headers: dict, layout: Layout
) -> tuple[ImageHeader | None, tuple[str, str, str]]:
    if not cands:
        where = os.path.join(layout.image_root, rec.image_series)
        return None, ("image_missing", f"no image file found for {rec.image_path} (looked in {where})", "")
    readable = [headers[p] for p in cands if isinstance(headers[p], ImageHeader)]
    if not readable:
        return None, ("image_unreadable", headers[cands[0]], cands[0])
    if len(readable) > 1:
        # A full-image series folder should hold one file. Prefer the CSV's own path, else the largest image.
        exact = layout.csv_location(rec.image_path)
        readable.sort(key=lambda h: (h.path != exact, -(h.rows * h.columns), h.path))
    return readable[0], ("", "", "")


def _resolve_roi(
    rec: CaseRecord,
    image: ImageHeader,
    cands: list[str],
    headers: dict,
    layout: Layout,
    include_wrong_size_masks: bool,
) -> tuple[IndexedRecord | None, list[dict]]:
    """Decide which candidate is the mask and which the crop, from the images themselves."""
    readable = [headers[p] for p in cands if isinstance(headers[p], ImageHeader) and p != image.path]
    unreadable = [p for p in cands if not isinstance(headers[p], ImageHeader)]
    if not readable:
        if unreadable:
            return None, [_row_skip(rec, "mask_not_found", "every ROI file is unreadable", unreadable[0])]
        return None, [_row_skip(rec, "roi_missing", f"no ROI mask or cropped image for {rec.roi_series}")]

    same_size = [h for h in readable if h.shape == image.shape]
    if len(same_size) > 1:  # rare: decide by content
        same_size = [h for h in same_size if _pixels_binary(h)]
    if len(same_size) > 1:
        return None, [
            _row_skip(
                rec, "mask_ambiguous", f"{len(same_size)} binary images of the full image's size", same_size[0].path
            )
        ]
    mask_ok = len(same_size) == 1
    if mask_ok:
        mask = same_size[0]
    else:
        binary = [h for h in readable if _pixels_binary(h)]
        sizes = ", ".join(f"{os.path.basename(h.path)}: {h.rows}x{h.columns}" for h in readable)
        if len(binary) != 1:
            detail = f"image is {image.rows}x{image.columns}; ROI files: {sizes}"
            if unreadable:
                detail += f"; unreadable: {[os.path.basename(p) for p in unreadable]}"
            return None, [_row_skip(rec, "mask_not_found", detail, readable[0].path)]
        mask = binary[0]
        if not include_wrong_size_masks:
            detail = (
                f"mask is {mask.rows}x{mask.columns} but the image is {image.rows}x{image.columns}; skipped "
                "(pass include_wrong_size_masks=True to keep it, flagged)"
            )
            return None, [_row_skip(rec, "mask_wrong_size", detail, mask.path)]

    others = [h for h in readable if h is not mask]
    crop_loc = layout.csv_location(rec.crop_path)
    others.sort(key=lambda h: (h.path != crop_loc, h.path != layout.csv_location(rec.mask_path), h.path))
    crop = others[0].path if others else None
    skips = []
    if crop is None:
        skips.append(_row_skip(rec, "crop_missing", "no cropped image besides the mask; row kept with crop=None"))
    swapped = None
    if layout.name == "classic":
        if mask.path == layout.csv_location(rec.crop_path):
            swapped = True
        elif mask.path == layout.csv_location(rec.mask_path):
            swapped = False
    return (
        IndexedRecord(
            record=rec,
            image=image.path,
            image_shape=image.shape,
            mask=mask.path,
            mask_shape=mask.shape,
            crop=crop,
            mask_size_ok=mask_ok,
            csv_paths_swapped=swapped,
        ),
        skips,
    )


def _pixels_binary(h: ImageHeader) -> bool:
    try:
        arr = read_array(h.path)
    except UnreadableImageError:
        return False
    return looks_binary(arr, lossy=is_lossy_path(h.path))
