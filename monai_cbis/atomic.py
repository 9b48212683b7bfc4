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

__all__ = ["atomic_write", "atomic_write_json", "is_temporary", "TMP_SUFFIX"]

#: Temporary files are named ``.<final name>.<random>.tmp`` beside the final file.
TMP_SUFFIX = ".tmp"


def _process_umask() -> int:
    """The process umask (read once: ``os.umask`` can only be read by setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: ``mkstemp`` creates ``0600`` files; a finished file gets the mode ``open()`` would have given it.
_FILE_MODE = 0o666 & ~_process_umask()


def is_temporary(name: str) -> bool:
    """Whether a file name is one of :func:`atomic_write`'s temporaries (a leftover when a run was killed)."""
    base = os.path.basename(name)
    return base.startswith(".") and base.endswith(TMP_SUFFIX)


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], mode: str = "w", fsync: bool = True) -> str:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it, then ``os.replace`` it onto ``path``.

    Any previous file at ``path`` stays intact if ``write`` raises or the process dies. ``fsync=False`` skips the
    flush to disk (for many regenerable files, where a later completion marker vouches for the set). The file gets
    the mode a plain ``open(path, "w")`` would give it (``0666`` less the umask), not ``mkstemp``'s ``0600``.
    Returns the path.
    """
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=TMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            write(f)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_json(obj, path: str | os.PathLike, indent: int | None = 1) -> str:
    """Write ``obj`` as JSON to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda f: json.dump(obj, f, indent=indent))
