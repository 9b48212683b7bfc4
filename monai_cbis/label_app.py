"""Lay out a MONAI Label ``monaibundle`` app that serves this project's bundles: one folder, one start command.

MONAI Label 0.8.5 serves bundles from the ``model/`` folder of its ``monaibundle`` sample app. :func:`lay_out_app`
copies that app from the installed monailabel wheel (``<prefix>/monailabel/sample-apps/monaibundle``), puts the
chosen bundles into its ``model/`` folder (configs, docs, LICENSE and ``models/model.pt`` when the bundle has been
trained; never epoch checkpoints, logs or evaluation outputs) and returns the command that starts the server
offline (``--conf zoo_source local``: the bundles are not looked up in the model zoo; ``--conf sam2 false``: no
SAM2 weights are downloaded). The folder appears whole or not at all (built beside ``out``, then renamed).

This is deployment, not data: nothing here is imported by the bundles or the data flow. The server itself must run
in the environment of ``constraints/monailabel.txt`` (README, "MONAI Label").

Example:
    >>> print(start_command("app", ["unet_effb3", "vgg16_classification"], studies="films"))
    ... # doctest: +NORMALIZE_WHITESPACE
    monailabel start_server --app app --studies films --conf models unet_effb3,vgg16_classification
        --conf zoo_source local --conf sam2 false

    ``python -m monai_cbis label-app OUT --bundles unet_effb3 mobilenetv2_classification`` calls
    ``lay_out_app(OUT, [...])`` and prints that command for the folder it wrote.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LabelApp", "available_bundles", "default_bundles_dir", "find_sample_app", "lay_out_app", "start_command"]

#: Bundle files that travel: the bundle format's own, and the released weights (``models/model.pt``).
_BUNDLE_ITEMS = ("configs", "docs", "LICENSE", "large_files.yml", "scripts")
_WEIGHTS = os.path.join("models", "model.pt")


@dataclass(frozen=True)
class LabelApp:
    """A laid-out app.

    Attributes:
        path: the app folder (pass it to ``monailabel start_server --app``).
        bundles: the bundle names in ``model/``, in the order given.
        untrained: the bundles without ``models/model.pt``: MONAI Label skips their inference task (it trains them).
        command: the start command (with ``studies`` for ``--studies``).
    """

    path: str
    bundles: tuple[str, ...]
    untrained: tuple[str, ...]
    command: str


def default_bundles_dir() -> str:
    """The checkout's ``bundles/`` folder (beside the ``monai_cbis`` package)."""
    return str(Path(__file__).resolve().parents[1] / "bundles")


def available_bundles(bundles_dir: str | os.PathLike | None = None) -> list[str]:
    """The bundle names under ``bundles_dir`` (folders holding ``configs/metadata.json``), sorted.

    Raises:
        FileNotFoundError: ``bundles_dir`` does not exist.
    """
    root = Path(bundles_dir or default_bundles_dir())
    if not root.is_dir():
        raise FileNotFoundError(
            f"Cannot find the bundles folder {root}; pass --bundles-dir with the folder that holds the bundles "
            "(bundles/ of a monai-cbis checkout)."
        )
    return sorted(p.name for p in root.iterdir() if (p / "configs" / "metadata.json").is_file())


def find_sample_app() -> str:
    """The ``monaibundle`` sample app shipped in the installed monailabel wheel's data.

    Raises:
        FileNotFoundError: monailabel is not installed in this environment (the message says how to install it).
    """
    candidates = [sys.prefix, sysconfig.get_path("data")]
    for prefix in dict.fromkeys(candidates):
        path = os.path.join(prefix, "monailabel", "sample-apps", "monaibundle")
        if os.path.isfile(os.path.join(path, "main.py")):
            return path
    raise FileNotFoundError(
        f"Cannot find MONAI Label's monaibundle sample app under {' or '.join(dict.fromkeys(candidates))}"
        "/monailabel/sample-apps; install MONAI Label 0.8.5 into this environment "
        '(pip install -e ".[dev]" monailabel==0.8.5 -c constraints/monailabel.txt; README, "MONAI Label").'
    )


def start_command(app: str | os.PathLike, bundles: Sequence[str], studies: str = "STUDIES") -> str:
    """``monailabel start_server`` for ``app`` serving ``bundles`` offline, with ``studies`` as the image folder."""
    args = ["monailabel", "start_server", "--app", str(app), "--studies", studies]
    args += ["--conf", "models", ",".join(bundles), "--conf", "zoo_source", "local", "--conf", "sam2", "false"]
    return shlex.join(args)


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not an empty folder; choose a new folder for the app.")


def _copy_bundle(src: Path, dst: Path) -> bool:
    """Copy one bundle's own files (and its released weights); True when it has weights."""
    dst.mkdir(parents=True)
    for name in _BUNDLE_ITEMS:
        item = src / name
        if item.is_dir():
            shutil.copytree(item, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif item.is_file():
            shutil.copy2(item, dst / name)
    weights = src / _WEIGHTS
    if weights.is_file():
        (dst / "models").mkdir()
        shutil.copy2(weights, dst / _WEIGHTS)
        return True
    return False


def lay_out_app(
    out: str | os.PathLike,
    bundles: Sequence[str],
    bundles_dir: str | os.PathLike | None = None,
    sample_app: str | os.PathLike | None = None,
    studies: str = "STUDIES",
) -> LabelApp:
    """Write a ready ``monaibundle`` app serving ``bundles`` to ``out``.

    Args:
        out: the app folder to create (absent or empty).
        bundles: bundle names under ``bundles_dir``.
        bundles_dir: the folder holding the bundles; default :func:`default_bundles_dir`.
        sample_app: the ``monaibundle`` app to copy; default :func:`find_sample_app`.
        studies: the ``--studies`` value written into the start command.

    Returns:
        the :class:`LabelApp`.

    Raises:
        ValueError: no bundle, a repeated bundle, or a name that is not a bundle (the message lists the options).
        FileExistsError: ``out`` exists and is not an empty folder.
        FileNotFoundError: the bundles folder or MONAI Label's sample app is missing.
    """
    names = list(bundles)
    if not names:
        raise ValueError("Name at least one bundle to serve (--bundles NAME [NAME ...]).")
    if len(set(names)) != len(names):
        raise ValueError(f"Bundles named more than once: {sorted({n for n in names if names.count(n) > 1})}.")
    root = Path(bundles_dir or default_bundles_dir())
    options = available_bundles(root)
    unknown = [n for n in names if n not in options]
    if unknown:
        raise ValueError(f"Unknown bundle(s) {unknown} in {root}, available options are {options}.")
    out = Path(out).absolute()
    _check_out(out)
    sample = Path(sample_app or find_sample_app())

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        app = tmp / "app"
        shutil.copytree(sample, app, ignore=shutil.ignore_patterns("__pycache__"))
        untrained = [n for n in names if not _copy_bundle(root / n, app / "model" / n)]
        _check_out(out)  # again: another process may have written it meanwhile
        if out.is_dir():
            out.rmdir()
        app.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return LabelApp(str(out), tuple(names), tuple(untrained), start_command(out, names, studies))
