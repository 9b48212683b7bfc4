"""monai_cbis.bundle_root: the running bundle's folder comes from --config_file on the command line."""

from __future__ import annotations

import pytest

from monai_cbis.bundle_root import infer_bundle_root


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "training", "--config_file", "bundles/unet_effb3/configs/train.json"], "bundles/unet_effb3"),
        (["run", "--config_file=b/x/configs/train.json"], "b/x"),
        (["run", "--config_file", "['bundles/a/configs/train.json','bundles/a/configs/evaluate.json']"], "bundles/a"),
        (["run", "--config_file", "loose/train.json"], "loose"),
    ],
)
def test_bundle_root_comes_from_the_config_file_on_the_command_line(monkeypatch, tmp_path, argv, expected):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["monai.bundle", *argv])
    assert infer_bundle_root() == str(tmp_path / expected)


def test_bundle_root_defaults_without_a_config_file(monkeypatch, tmp_path):
    monkeypatch.setattr("sys.argv", ["python"])
    assert infer_bundle_root(str(tmp_path)) == str(tmp_path)
