"""Which template writes which config file of a bundle: :data:`CONFIG_FILES`.

The templates themselves live by purpose: :mod:`.training` (``train.json``, ``multi_gpu_train.json``),
:mod:`.inference` (``evaluate.json``, ``inference.json``) and :mod:`.metadata` (``metadata.json``). They read what
differs between bundles from the spec (:mod:`.specs`), its family (:mod:`.families`) and its item level
(:mod:`.levels`); none branches on a family's or a level's name.

Example:
    >>> list(CONFIG_FILES)[:2]
    ['configs/train.json', 'configs/evaluate.json']
"""

from __future__ import annotations

from .inference import evaluate_config, inference_config
from .metadata import metadata
from .training import multi_gpu_config, train_config

__all__ = ["CONFIG_FILES", "train_config", "evaluate_config", "inference_config", "multi_gpu_config", "metadata"]

#: file name -> template, for every bundle.
CONFIG_FILES = {
    "configs/train.json": train_config,
    "configs/evaluate.json": evaluate_config,
    "configs/inference.json": inference_config,
    "configs/multi_gpu_train.json": multi_gpu_config,
    "configs/metadata.json": metadata,
}
