"""Which bundle is running: its folder, read from the ``--config_file`` of ``python -m monai.bundle run``.

MONAI's bundle runner does not tell a config where the bundle lives, and ``bundle_root: "."`` would write
checkpoints and logs into whatever folder the command was typed in. Configs ask :func:`infer_bundle_root` instead.
This belongs to the workflow (how a bundle is launched), not to the data, so it has a module of its own; it imports
neither PyTorch nor MONAI.

Example (in a bundle config)::

    "imports": ["$import monai_cbis.bundle_root"],
    "bundle_root": "$monai_cbis.bundle_root.infer_bundle_root()"
"""

from __future__ import annotations

import ast
import os
import sys

__all__ = ["infer_bundle_root"]


def infer_bundle_root(default: str = ".") -> str:
    """The folder of the bundle being run: the parent of the ``configs/`` folder named by ``--config_file``.

    ``python -m monai.bundle run --config_file bundles/unet_effb3/configs/train.json`` from the repository root gives
    ``<repo>/bundles/unet_effb3``, so checkpoints and logs land in the bundle, not loose in the current directory.
    A list of config files (``"['.../train.json','.../evaluate.json']"``) uses the first; a config outside a
    ``configs/`` folder gives its own folder. Without ``--config_file`` on the command line (a ``ConfigWorkflow``
    built in Python, MONAI Label), ``default``.

    Example (run as ``python -m monai.bundle run --config_file /repo/bundles/unet_effb3/configs/train.json``):
        >>> infer_bundle_root()  # doctest: +SKIP
        '/repo/bundles/unet_effb3'
    """
    argv = sys.argv
    for i, arg in enumerate(argv):
        if arg == "--config_file" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--config_file="):
            value = arg.split("=", 1)[1]
        else:
            continue
        if value.strip().startswith(("[", "(")):
            try:
                value = list(ast.literal_eval(value))[0]
            except (ValueError, SyntaxError, IndexError):
                continue
        folder = os.path.dirname(os.path.abspath(str(value)))
        return os.path.dirname(folder) if os.path.basename(folder) == "configs" else folder
    return os.path.abspath(default)
