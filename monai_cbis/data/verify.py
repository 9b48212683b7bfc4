"""Read every file a CBIS-DDSM download references and report what is wrong with it.

Indexing reads headers only; :func:`verify_collection` also decodes every full image, mask and crop, so it finds
truncated pixel data, masks that are not binary, and empty masks. Each file is decoded once, even when several rows
share it.

Example:
    >>> report = verify_collection("/data/CBIS-DDSM")  # doctest: +SKIP
    >>> report["ok"], report["problems_by_reason"]  # doctest: +SKIP
    (False, {'mask_wrong_size': 6})
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from .files import UnreadableImageError, is_lossy_path, read_array
from .indexer import index_collection, looks_binary

__all__ = ["verify_collection", "default_report_path", "PIXEL_PROBLEMS"]

#: Problems only a pixel read finds (the indexer's skip reasons are reported too).
PIXEL_PROBLEMS = ("pixels_unreadable", "mask_not_binary", "mask_empty", "image_blank")


def default_report_path(root: str | os.PathLike) -> str:
    """Where ``python -m monai_cbis verify ROOT`` writes its report unless told: beside the collection's folder,
    named after it (``/data/CBIS-DDSM`` -> ``/data/CBIS-DDSM_verify_report.json``), never the current directory.

    Example:
        >>> default_report_path("/data/CBIS-DDSM/")
        '/data/CBIS-DDSM_verify_report.json'
    """
    root = os.path.abspath(root)
    return os.path.join(os.path.dirname(root), f"{os.path.basename(root) or 'collection'}_verify_report.json")


def _check(path: str, role: str) -> list[tuple[str, str]]:
    try:
        arr = read_array(path)
    except UnreadableImageError as e:
        return [("pixels_unreadable", str(e))]
    problems = []
    if role == "mask":
        if not looks_binary(arr, lossy=is_lossy_path(path)):
            problems.append(("mask_not_binary", f"{path}: mask has values other than 0 and its maximum"))
        elif int(arr.max()) == 0:
            problems.append(("mask_empty", f"{path}: mask has no foreground pixel"))
    elif int(arr.max()) == int(arr.min()):
        problems.append(("image_blank", f"{path}: every pixel is {int(arr.min())}"))
    return problems


def verify_collection(
    root: str | os.PathLike, task: str = "both", num_workers: int = 4, progress: bool = False
) -> dict:
    """Index ``root``, then decode every referenced image, mask and crop.

    Returns:
        a JSON-ready report: ``ok``, ``summary`` (from the index), ``files_checked``, ``problems`` (one entry per
        problem with ``reason``, ``detail``, ``path`` and, for rows, CSV file and row) and ``problems_by_reason``.
    """
    index = index_collection(root, task=task, num_workers=num_workers * 2, progress=progress)
    roles: dict[str, str] = {}
    for r in index.records:
        roles[r.image] = "image"
        roles[r.mask] = "mask"
        if r.crop:
            roles.setdefault(r.crop, "crop")
    paths = sorted(roles)
    with ThreadPoolExecutor(max_workers=max(1, num_workers)) as pool:
        results = pool.map(lambda p: _check(p, roles[p]), paths)
        if progress:
            from tqdm.auto import tqdm

            results = tqdm(results, total=len(paths), desc="Decoding images", unit="file")
        found = dict(zip(paths, results, strict=True))
    problems = [dict(s) for s in index.skipped]
    for path, probs in found.items():
        for reason, detail in probs:
            problems.append({"kind": "file", "role": roles[path], "reason": reason, "detail": detail, "path": path})
    return {
        "root": index.root,
        "ok": not problems,
        "summary": index.summary(),
        "files_checked": len(paths),
        "problems": problems,
        "problems_by_reason": dict(sorted(Counter(p["reason"] for p in problems).items())),
    }
