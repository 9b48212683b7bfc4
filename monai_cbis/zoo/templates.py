"""Which template writes which config file of a bundle: :data:`CONFIG_FILES`.

The templates themselves live by purpose: :mod:`.training` (``train.json``, ``multi_gpu_train.json``),
:mod:`.inference` (``evaluate.json``, ``inference.json``), :mod:`.films` (``evaluate_films.json``, only where it
applies: a template returns None for a bundle it does not apply to, which then has no such file) and
:mod:`.metadata` (``metadata.json``). They read what differs between bundles from the spec (:mod:`.specs`), its
family (:mod:`.families`) and its item level (:mod:`.levels`); none branches on a family's or a level's name.

Example:
    >>> list(CONFIG_FILES)[:2]
    ['configs/train.json', 'configs/evaluate.json']
"""

from __future__ import annotations

from .films import evaluate_films_config
from .inference import evaluate_config, inference_config
from .metadata import metadata
from .training import multi_gpu_config, train_config

__all__ = [
    "CONFIG_FILES",
    "train_config",
    "evaluate_config",
    "evaluate_films_config",
    "inference_config",
    "multi_gpu_config",
    "metadata",
]

#: file name -> template (``spec -> dict``, or None where the file does not apply to the bundle).
CONFIG_FILES = {
    "configs/train.json": train_config,
    "configs/evaluate.json": evaluate_config,
    "configs/evaluate_films.json": evaluate_films_config,
    "configs/inference.json": inference_config,
    "configs/multi_gpu_train.json": multi_gpu_config,
    "configs/metadata.json": metadata,
}
