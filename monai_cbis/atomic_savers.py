"""MONAI's checkpoint and image writers, made atomic with :func:`monai_cbis.atomic.atomic_write`.

Two of the files a later step reads are written by MONAI, not by this package, and neither is atomic there:

* **Checkpoints.** MONAI's ``CheckpointSaver`` builds ignite's ``DiskSaver`` with ``atomic=False`` (ignite's own
  default is ``True``), because ignite's temporary file is created ``0600``. So a run killed while it writes
  ``models/model.pt`` or ``checkpoint_epoch=N.pt`` leaves a truncated file under the final name, and the next
  ``--resume true`` or ``evaluate.json`` fails on it. :class:`AtomicCheckpointSaver` is the same handler whose every
  file goes through a temporary file, ``fsync`` and ``os.replace`` (with a plain file's permissions).
* **Inference masks.** ``SaveImaged`` with MONAI's ``PILWriter`` saves straight onto the final PNG name.
  :class:`AtomicPILWriter` (``"writer": "monai_cbis.atomic_savers.AtomicPILWriter"``) writes the same bytes through a
  temporary file.

Example (bundle config)::

    {"_target_": "monai_cbis.atomic_savers.AtomicCheckpointSaver", "save_dir": "@ckpt_dir",
     "save_dict": {"model": "@network"}, "save_key_metric": true, "key_metric_filename": "model.pt"}
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from ignite.handlers import DiskSaver
from monai.data import PILWriter
from monai.data.image_writer import ImageWriter
from monai.handlers import CheckpointSaver
from PIL import Image

from .atomic import atomic_write

__all__ = ["AtomicDiskSaver", "AtomicCheckpointSaver", "AtomicPILWriter"]


class AtomicDiskSaver(DiskSaver):
    """ignite's ``DiskSaver`` (rank 0 only, no empty-folder check) writing through :func:`atomic_write`.

    ignite's ``Checkpoint`` removes the file it drops (``n_saved``) *before* it writes the new one, so a kill in
    between leaves no checkpoint at all; here the removal waits until the new file is complete, and a fixed file
    name is simply replaced, never deleted first.

    Args:
        dirname: the checkpoint folder.
        filename: a fixed file name for every save (MONAI's ``key_metric_filename`` / ``final_filename``), or None
            for ignite's own names (``checkpoint_epoch=N.pt``).
    """

    def __init__(self, dirname: str | os.PathLike, filename: str | None = None) -> None:
        super().__init__(dirname=dirname, atomic=True, require_empty=False)
        self.filename = filename
        self._to_remove: list[str] = []

    def __call__(self, checkpoint: Mapping, filename: str, metadata: Mapping | None = None) -> None:
        filename = self.filename or filename
        super().__call__(checkpoint, filename, metadata)
        pending, self._to_remove = self._to_remove, []
        for old in pending:
            if old != filename and (self.dirname / old).exists():
                super().remove(old)

    def _save_func(self, checkpoint: Mapping, path: Path, func: Callable) -> None:
        atomic_write(path, lambda f: func(checkpoint, f, **self.kwargs), mode="wb")

    def remove(self, filename: str) -> None:
        if self.filename is None:  # after the next save; a fixed name is replaced by it
            self._to_remove.append(filename)


class AtomicCheckpointSaver(CheckpointSaver):
    """MONAI's ``CheckpointSaver`` (same arguments) whose final, key-metric and interval files are written atomically.

    A kill during a save leaves the previous file under the final name, never a truncated one or none (see
    :class:`AtomicDiskSaver`); the temporary ``.<name>.<random>.tmp`` it may leave beside it matches no ``*.pt``
    pattern and is never read.
    """

    def __init__(self, save_dir: str, save_dict: dict, **kwargs) -> None:
        super().__init__(save_dir, save_dict, **kwargs)
        for checkpoint in (self._final_checkpoint, self._key_metric_checkpoint, self._interval_checkpoint):
            if checkpoint is not None:
                checkpoint.save_handler = AtomicDiskSaver(self.save_dir, checkpoint.save_handler.filename)


def _pil_format(filename: str | os.PathLike) -> str:
    ext = Path(filename).suffix.lower()
    fmt = Image.registered_extensions().get(ext)
    if fmt is None:
        raise ValueError(f"AtomicPILWriter cannot tell the image format of {filename}: unknown extension {ext!r}.")
    return fmt


class AtomicPILWriter(PILWriter):
    """MONAI's ``PILWriter`` saving through a temporary file and ``os.replace`` (no ``fsync``: inference writes many
    small files that a rerun regenerates; the rename alone keeps a half-written PNG from appearing).

    Example (``SaveImaged`` in a config)::

        {"_target_": "SaveImaged", "keys": "pred", "output_ext": ".png",
         "writer": "monai_cbis.atomic_savers.AtomicPILWriter"}
    """

    def write(self, filename: str | os.PathLike, verbose: bool = False, **kwargs) -> None:
        ImageWriter.write(self, filename, verbose=verbose)
        self.data_obj = self.create_backend_obj(
            data_array=self.data_obj,
            dtype=self.output_dtype,
            reverse_indexing=kwargs.pop("reverse_indexing", True),
            image_mode=kwargs.pop("image_mode", None),
            scale=self.scale,
            **kwargs,
        )
        fmt = kwargs.pop("format", None) or _pil_format(filename)
        atomic_write(filename, lambda f: self.data_obj.save(f, format=fmt, **kwargs), mode="wb", fsync=False)
