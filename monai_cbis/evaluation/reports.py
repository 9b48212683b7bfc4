"""Report files written atomically: ``metrics.json`` (strict JSON), per-case CSVs, unique case names.

Every file goes through :func:`monai_cbis.atomic.atomic_write`: a run killed mid-write leaves the previous file (or
none), never a truncated one. JSON is strict: NaN and infinities become ``null``; numpy scalars become numbers.

Example:
    >>> case_names(["/d/Mass-Training_P_00001_LEFT_CC/1-1.dcm", "/d/Mass-Training_P_00004_LEFT_MLO/1-1.dcm"])
    ['Mass-Training_P_00001_LEFT_CC__1-1', 'Mass-Training_P_00004_LEFT_MLO__1-1']
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Mapping, Sequence

import numpy as np

from ..atomic import atomic_write, atomic_write_json

__all__ = ["case_names", "json_ready", "number_repeats", "safe_name", "write_json", "write_csv", "read_csv"]

_EXTENSIONS = (".nii.gz", ".dcm", ".png", ".jpg", ".jpeg", ".nii", ".tif", ".tiff", ".npy", ".npz")


def json_ready(obj):
    """``obj`` with numpy types turned into Python ones and NaN / infinity into None (strict JSON).

    Example:
        >>> json_ready({"a": np.float32(0.5), "b": float("nan"), "c": np.arange(2)})
        {'a': 0.5, 'b': None, 'c': [0, 1]}
    """
    if isinstance(obj, Mapping):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


def write_json(obj, path: str | os.PathLike) -> str:
    """Write ``json_ready(obj)`` to ``path`` atomically (strict JSON: no NaN). Returns the path."""
    return atomic_write_json(json_ready(obj), path)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return "" if not math.isfinite(f) else repr(f)
    return str(v)


def write_csv(rows: Sequence[Mapping], columns: Sequence[str], path: str | os.PathLike) -> str:
    """Write ``rows`` (dicts) as CSV with a header of ``columns`` atomically; None and NaN are empty cells.

    Raises:
        KeyError: a row lacks one of ``columns`` (the column and the row's keys are named).
    """
    for i, r in enumerate(rows):
        missing = [c for c in columns if c not in r]
        if missing:
            raise KeyError(f"CSV row {i} lacks columns {missing}; it has {sorted(r)}.")

    def write(f):
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r[c]) for c in columns])

    return atomic_write(path, write)


def read_csv(path: str | os.PathLike) -> list[dict]:
    """Read a CSV written by :func:`write_csv` back as a list of string dictionaries."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _strip_ext(name: str) -> str:
    low = name.lower()
    for ext in _EXTENSIONS:
        if low.endswith(ext) and len(name) > len(ext):
            return name[: -len(ext)]
    return os.path.splitext(name)[0] or name


def safe_name(part: str) -> str:
    """``part`` usable as a file name: characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``.

    Example:
        >>> safe_name("Mass-Test_P_00477_RIGHT_CC/../x y")
        'Mass-Test_P_00477_RIGHT_CC_.._x_y'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "_", part).strip("._") or "x"


_safe = safe_name


def number_repeats(names: Sequence[str], sep: str) -> list[str]:
    """Keep the first of equal names, suffix the later ones ``<sep>2``, ``<sep>3``... in order.

    Example:
        >>> number_repeats(["a", "b", "a", "a"], "~")
        ['a', 'b', 'a~2', 'a~3']
    """
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}{sep}{seen[n]}")
    return out


def case_names(paths: Sequence[str]) -> list[str]:
    """Short unique names for image paths, usable as file names.

    Each name is the file stem, preceded by as many parent folders as it takes to tell it apart from the others
    (joined by ``__``; classic-layout CBIS-DDSM files are all called ``1-1.dcm`` or ``000000.dcm``, only their folders
    differ). Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``. Paths that are equal get
    ``~2``, ``~3``... suffixes in order.

    Example:
        >>> case_names(["a/x.png", "b/y.png"])
        ['x', 'y']
    """
    parts = [[_safe(p) for p in re.split(r"[\\/]+", str(path).strip("\\/")) if p] or ["case"] for path in paths]
    parts = [p[:-1] + [_safe(_strip_ext(p[-1]))] for p in parts]
    depth = [1] * len(parts)
    while True:
        names = ["__".join(p[-d:]) for p, d in zip(parts, depth, strict=True)]
        groups: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            groups.setdefault(n, []).append(i)
        grew = False
        for idx in groups.values():
            if len(idx) > 1:
                for i in idx:
                    if depth[i] < len(parts[i]):
                        depth[i] += 1
                        grew = True
        if not grew:
            break
    return number_repeats(names, "~")
