"""Atomic file writes: a crash or a kill mid-write never leaves a half-written file under the final name.

Example:
    >>> atomic_write_json({"training": []}, "/tmp/datalist.json")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from typing import IO

__all__ = ["atomic_write", "atomic_write_json"]


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], mode: str = "w") -> str:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it, then ``os.replace`` it onto ``path``.

    Any previous file at ``path`` stays intact if ``write`` raises or the process dies. Returns the path.
    """
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_json(obj, path: str | os.PathLike, indent: int | None = 1) -> str:
    """Write ``obj`` as JSON to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda f: json.dump(obj, f, indent=indent))
