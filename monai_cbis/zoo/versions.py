"""The package versions a bundle's ``metadata.json`` records, and why a version alone is never drift.

``metadata.json`` records the versions installed when it was written, read from :mod:`importlib.metadata` (never
typed by hand): ``monai_version``, ``pytorch_version``, ``numpy_version`` and ``required_packages_version`` (the
project's own packages plus a bundle's :attr:`~monai_cbis.zoo.specs.BundleSpec.extra_packages`).

The rule, so that the drift check passes on every machine (CI installs whatever pip resolves): the *values* of
these fields are left out of the comparison. ``python -m monai_cbis.zoo check`` and ``write`` compare a bundle with
its spec after :func:`keep_recorded_versions` copies the versions already in the file into the freshly rendered
text, so a file that differs in versions alone is up to date and is not rewritten. Which packages are listed is
still checked. ``python -m monai_cbis.zoo write --refresh_versions`` records the versions installed now.

Example:
    >>> import importlib.metadata
    >>> package_versions()["monai_version"] == importlib.metadata.version("monai")
    True
    >>> keep_recorded_versions({"monai_version": "9.9", "name": "x"}, {"monai_version": "1.0"})
    {'monai_version': '1.0', 'name': 'x'}
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping

__all__ = ["VERSION_FIELDS", "REQUIRED_PACKAGES", "installed_version", "package_versions", "keep_recorded_versions"]

#: metadata.json field -> the distribution whose version it records (None: a dict of packages).
VERSION_FIELDS = {
    "monai_version": "monai",
    "pytorch_version": "torch",
    "numpy_version": "numpy",
    "required_packages_version": None,
}

#: Distributions every bundle lists under ``required_packages_version``, in order.
REQUIRED_PACKAGES = ("monai-cbis", "pydicom", "opencv-python-headless", "pytorch-ignite", "tensorboard", "matplotlib")


def installed_version(package: str) -> str:
    """The installed version of a distribution.

    Raises:
        ValueError: ``package`` is not installed (the message says what to do).
    """
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        raise ValueError(
            f"Package {package!r} is not installed, so its version cannot be recorded in a bundle's metadata.json: "
            f"install it (pip install {package}) and run the zoo again."
        ) from None


def package_versions(extra_packages: Iterable[str] = ()) -> dict:
    """The version fields of ``metadata.json`` as installed now, in :data:`VERSION_FIELDS` order."""
    out: dict = {field: installed_version(dist) for field, dist in VERSION_FIELDS.items() if dist is not None}
    packages = (*REQUIRED_PACKAGES, *(p for p in extra_packages if p not in REQUIRED_PACKAGES))
    out["required_packages_version"] = {p: installed_version(p) for p in packages}
    return out


def keep_recorded_versions(rendered: Mapping, recorded: Mapping) -> dict:
    """``rendered`` (a metadata dict) with the version values of ``recorded`` (the file on disk), where it has them.

    A package present in only one of them keeps ``rendered``'s entry (a newly listed package gets the installed
    version, a dropped one goes), so the list of packages is still compared. Key order is ``rendered``'s.
    """
    out = dict(rendered)
    for field, dist in VERSION_FIELDS.items():
        if field not in out or field not in recorded:
            continue
        if dist is not None:
            if isinstance(recorded[field], str):
                out[field] = recorded[field]
            continue
        old = recorded[field] if isinstance(recorded[field], Mapping) else {}
        out[field] = {p: old[p] if isinstance(old.get(p), str) else v for p, v in out[field].items()}
    return out
