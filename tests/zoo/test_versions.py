"""monai_cbis.zoo.versions: metadata.json records installed versions, and versions alone are never drift."""

from __future__ import annotations

import importlib.metadata
import json
import os

import pytest

from monai_cbis.zoo import SPECS, check_bundles, render_bundle, write_bundles
from monai_cbis.zoo.__main__ import main
from monai_cbis.zoo.versions import REQUIRED_PACKAGES, VERSION_FIELDS, installed_version, package_versions

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _meta(folder, name):
    return folder / name / "configs" / "metadata.json"


def _bundle(tmp_path, name="deeplabv3plus_r50"):
    write_bundles(tmp_path, [name])
    (tmp_path / name / "docs" / "README.md").write_text("hand-written")
    return _meta(tmp_path, name)


def test_versions_come_from_importlib_metadata():
    meta = json.loads(render_bundle(SPECS["deeplabv3plus_r50"])["configs/metadata.json"])
    for field, dist in VERSION_FIELDS.items():
        if dist is not None:
            assert meta[field] == importlib.metadata.version(dist)
    packages = meta["required_packages_version"]
    assert list(packages) == [*REQUIRED_PACKAGES, "segmentation-models-pytorch", "highdicom"]  # spec, then family
    assert all(v == importlib.metadata.version(p) for p, v in packages.items())


def test_the_committed_bundles_pass_the_drift_check_with_other_installed_versions(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "99.0.0")
    assert package_versions()["monai_version"] == "99.0.0"
    assert check_bundles(os.path.join(REPO, "bundles")) == []


def test_a_version_edit_is_no_drift_and_write_keeps_it_until_refreshed(tmp_path):
    path = _bundle(tmp_path)
    meta = json.loads(path.read_text())
    meta["pytorch_version"] = "1.0.0"
    meta["required_packages_version"]["pydicom"] = "0.1"
    path.write_text(json.dumps(meta, indent=4) + "\n")
    assert check_bundles(tmp_path, ["deeplabv3plus_r50"]) == []
    assert write_bundles(tmp_path, ["deeplabv3plus_r50"]) == []
    assert json.loads(path.read_text())["pytorch_version"] == "1.0.0"
    assert write_bundles(tmp_path, ["deeplabv3plus_r50"], refresh_versions=True) == [str(path)]
    meta = json.loads(path.read_text())
    assert meta["pytorch_version"] == importlib.metadata.version("torch")
    assert meta["required_packages_version"]["pydicom"] == importlib.metadata.version("pydicom")


def test_the_list_of_packages_and_everything_else_is_still_checked(tmp_path):
    path = _bundle(tmp_path)
    original = path.read_text()
    for edit in (
        lambda m: m["required_packages_version"].pop("segmentation-models-pytorch"),
        lambda m: m.update(monai_version=None),
        lambda m: m.update(name="renamed"),
    ):
        meta = json.loads(original)
        edit(meta)
        path.write_text(json.dumps(meta, indent=4) + "\n")
        assert check_bundles(tmp_path, ["deeplabv3plus_r50"]) == [f"{path}: differs from what monai_cbis.zoo generates"]
    path.write_text("not json")
    assert check_bundles(tmp_path, ["deeplabv3plus_r50"]) == [f"{path}: differs from what monai_cbis.zoo generates"]
    assert write_bundles(tmp_path, ["deeplabv3plus_r50"]) == [str(path)]


def test_cli_refresh_versions(tmp_path, capsys):
    path = _bundle(tmp_path)
    path.write_text(path.read_text().replace(importlib.metadata.version("numpy"), "0.0.1", 1))
    assert main(["write", "--bundles_dir", str(tmp_path), "deeplabv3plus_r50"]) == 0
    assert '"numpy_version": "0.0.1"' in path.read_text()
    assert main(["write", "--refresh_versions", "--bundles_dir", str(tmp_path), "deeplabv3plus_r50"]) == 0
    assert f"wrote {path}" in capsys.readouterr().out


def test_a_missing_package_is_a_clear_error():
    with pytest.raises(ValueError, match="'no-such-package-xyz' is not installed"):
        installed_version("no-such-package-xyz")
