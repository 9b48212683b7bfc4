"""monai_cbis.label_app and ``python -m monai_cbis label-app``: a ready monaibundle app, one start command."""

from __future__ import annotations

import doctest
import os
import shlex
import shutil

import pytest

import monai_cbis.label_app
from monai_cbis.cli import main
from monai_cbis.label_app import available_bundles, default_bundles_dir, find_sample_app, lay_out_app

NAMES = ["unet_effb3", "mobilenetv2_classification"]


@pytest.fixture()
def bundles_dir(tmp_path):
    """Two real bundles: the segmenter with released weights plus training leftovers, the classifier untrained."""
    root = tmp_path / "bundles"
    for name in NAMES:
        shutil.copytree(os.path.join(default_bundles_dir(), name, "configs"), root / name / "configs")
        (root / name / "LICENSE").write_text("Apache-2.0\n")
    models = root / "unet_effb3" / "models"
    models.mkdir()
    (models / "model.pt").write_bytes(b"weights")
    (models / "epoch_3.pt").write_bytes(b"an epoch checkpoint")
    (root / "unet_effb3" / "eval").mkdir()
    (root / "unet_effb3" / "eval" / "metrics.json").write_text("{}")
    (root / "notes").mkdir()  # not a bundle: no configs/metadata.json
    return root


@pytest.fixture()
def sample_app(tmp_path):
    app = tmp_path / "sample" / "monaibundle"
    (app / "lib").mkdir(parents=True)
    (app / "main.py").write_text("# MONAI Label's app\n")
    (app / "lib" / "__init__.py").write_text("")
    return app


def test_docstring_example():
    assert doctest.testmod(monai_cbis.label_app).attempted > 0
    assert doctest.testmod(monai_cbis.label_app).failed == 0


def test_lays_out_the_app_with_the_bundles_and_their_released_weights_only(tmp_path, bundles_dir, sample_app):
    app = lay_out_app(tmp_path / "app", NAMES, bundles_dir=bundles_dir, sample_app=sample_app, studies="/films")
    out = tmp_path / "app"
    assert app.path == str(out) and app.bundles == tuple(NAMES) and app.untrained == ("mobilenetv2_classification",)
    assert (out / "main.py").read_text() == "# MONAI Label's app\n" and (out / "lib" / "__init__.py").is_file()
    assert sorted(os.listdir(out / "model")) == sorted(NAMES)
    seg = out / "model" / "unet_effb3"
    assert (seg / "configs" / "inference.json").is_file() and (seg / "LICENSE").is_file()
    assert os.listdir(seg / "models") == ["model.pt"] and (seg / "models" / "model.pt").read_bytes() == b"weights"
    assert not (seg / "eval").exists() and not (out / "model" / NAMES[1] / "models").exists()
    assert shlex.split(app.command) == [
        "monailabel", "start_server", "--app", str(out), "--studies", "/films",
        "--conf", "models", ",".join(NAMES), "--conf", "zoo_source", "local", "--conf", "sam2", "false",
    ]  # fmt: skip
    assert [p for p in os.listdir(tmp_path) if p.startswith(".app.")] == []  # no half-built folder left beside it


def test_an_empty_out_folder_is_used_and_a_non_empty_one_refused(tmp_path, bundles_dir, sample_app):
    (tmp_path / "empty").mkdir()
    assert lay_out_app(tmp_path / "empty", NAMES[:1], bundles_dir=bundles_dir, sample_app=sample_app).path
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("mine")
    with pytest.raises(FileExistsError, match="taken already exists and is not an empty folder"):
        lay_out_app(tmp_path / "taken", NAMES[:1], bundles_dir=bundles_dir, sample_app=sample_app)
    assert os.listdir(tmp_path / "taken") == ["file"]


def test_unknown_or_repeated_bundles_are_refused_with_the_options(tmp_path, bundles_dir, sample_app):
    assert available_bundles(bundles_dir) == sorted(NAMES)
    with pytest.raises(ValueError, match=r"Unknown bundle\(s\) \['unet'\].*available options are \['mobilenetv2"):
        lay_out_app(tmp_path / "app", ["unet"], bundles_dir=bundles_dir, sample_app=sample_app)
    with pytest.raises(ValueError, match="more than once"):
        lay_out_app(tmp_path / "app", NAMES[:1] * 2, bundles_dir=bundles_dir, sample_app=sample_app)
    assert not (tmp_path / "app").exists()


def test_every_checkout_bundle_is_available():
    assert set(available_bundles()) >= {"unet_effb3", "unet_roi", "vgg16_classification"}


def test_the_sample_app_is_found_in_the_installed_monailabel():
    """README's install line installs monailabel (--no-deps), whose wheel data holds the sample apps."""
    assert os.path.isfile(os.path.join(find_sample_app(), "main.py"))


def test_cli_prints_the_start_command_and_warns_about_untrained_bundles(tmp_path, capsys):
    out = tmp_path / "app"
    assert main(["label-app", str(out), "--bundles", "mobilenetv2_classification", "--studies", "/films"]) == 0
    printed = capsys.readouterr()
    command = printed.out.strip().splitlines()[-1]
    assert command.startswith(f"monailabel start_server --app {out} --studies /films --conf models mobilenetv2_")
    assert "mobilenetv2_classification has no models/model.pt" in printed.err
    assert (out / "model" / "mobilenetv2_classification" / "configs" / "metadata.json").is_file()


def test_cli_errors_name_the_options_and_the_taken_folder(tmp_path, capsys):
    assert main(["label-app", str(tmp_path / "app"), "--bundles", "nope"]) == 2
    assert "available options are [" in capsys.readouterr().err
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "f").write_text("")
    assert main(["label-app", str(tmp_path / "taken"), "--bundles", "unet_effb3"]) == 2
    assert "is not an empty folder" in capsys.readouterr().err
