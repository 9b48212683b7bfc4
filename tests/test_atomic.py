"""monai_cbis.atomic and .atomic_savers: what a later step reads is never half-written and has a plain file's mode."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import torch
from ignite.engine import Engine
from monai.handlers import CheckpointSaver
from monai.transforms import SaveImage
from PIL import Image

from monai_cbis.atomic import atomic_write, atomic_write_json, is_temporary
from monai_cbis.atomic_savers import AtomicCheckpointSaver, AtomicPILWriter


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_files_get_the_mode_of_a_plain_file(tmp_path):
    plain = tmp_path / "plain.json"
    plain.write_text("{}")
    atomic_write_json({}, tmp_path / "atomic.json")
    assert _mode(tmp_path / "atomic.json") == _mode(plain)  # not mkstemp's 0600: group and others can read it


def test_a_failed_write_keeps_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "datalist.json"
    atomic_write_json({"training": [1]}, path)

    def half(f):
        f.write('{"training": [')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, half)
    assert path.read_text() == '{\n "training": [\n  1\n ]\n}'
    assert [p.name for p in tmp_path.iterdir()] == ["datalist.json"]
    assert is_temporary(".datalist.json.abc123.tmp") and not is_temporary("datalist.json")


def _dying_torch_save(monkeypatch):
    """torch.save that writes half a file, then the process is interrupted."""
    real = torch.save

    def dying(obj, f, **kwargs):
        real(obj, f, **kwargs)
        if hasattr(f, "truncate"):
            f.truncate(40)
        else:
            with open(f, "r+b") as g:
                g.truncate(40)
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dying)


@pytest.mark.parametrize("saver, survives", [(AtomicCheckpointSaver, True), (CheckpointSaver, False)])
def test_a_checkpoint_interrupted_while_saved_leaves_the_previous_one(tmp_path, monkeypatch, saver, survives):
    """MONAI's CheckpointSaver (atomic=False) leaves a truncated model.pt; AtomicCheckpointSaver the previous one."""
    net = torch.nn.Linear(3, 2)
    trainer = Engine(lambda e, b: None)
    saver(str(tmp_path), {"model": net}, save_final=True, final_filename="model.pt").attach(trainer)
    trainer.run([0], max_epochs=1)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        net.weight.add_(1.0)
    _dying_torch_save(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        trainer.run([0], max_epochs=2)
    monkeypatch.undo()
    if survives:
        loaded = torch.load(tmp_path / "model.pt")
        assert all(torch.equal(loaded[k], before[k]) for k in before)
        assert sorted(os.listdir(tmp_path)) == ["model.pt"] and _mode(tmp_path / "model.pt") & stat.S_IRGRP
    else:
        with pytest.raises(RuntimeError):  # "PytorchStreamReader failed reading zip archive"
            torch.load(tmp_path / "model.pt")


def test_epoch_checkpoints_are_pruned_only_after_the_next_one_is_complete(tmp_path, monkeypatch):
    """ignite deletes the oldest file before it writes the new one: with n_saved=1 a kill in between left nothing."""
    net = torch.nn.Linear(3, 2)
    trainer = Engine(lambda e, b: None)
    AtomicCheckpointSaver(str(tmp_path), {"model": net}, save_interval=1, epoch_level=True, n_saved=2).attach(trainer)
    trainer.run([0], max_epochs=3)
    assert sorted(os.listdir(tmp_path)) == ["model_epoch=2.pt", "model_epoch=3.pt"]  # the oldest was removed
    _dying_torch_save(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        trainer.run([0], max_epochs=4)
    assert sorted(os.listdir(tmp_path)) == ["model_epoch=2.pt", "model_epoch=3.pt"]


def test_atomic_pil_writer_writes_what_pil_writer_writes_and_nothing_when_interrupted(tmp_path, monkeypatch):
    mask = torch.zeros(1, 6, 5)
    mask[0, 2:4, 1:3] = 1
    meta = {"filename_or_obj": "a.dcm"}
    for writer, folder in ((AtomicPILWriter, "atomic"), ("PILWriter", "plain")):
        SaveImage(tmp_path / folder, output_ext=".png", output_postfix="", output_dtype=np.uint8, scale=255,
                  separate_folder=False, writer=writer, print_log=False)(mask, meta_data=meta)  # fmt: skip
    atomic, plain = (np.asarray(Image.open(tmp_path / f / "a.png")) for f in ("atomic", "plain"))
    assert np.array_equal(atomic, plain) and atomic.max() == 255 and atomic.shape == (5, 6)

    def half(self, fp, format=None, **kwargs):
        fp.write(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", half)
    with pytest.raises(KeyboardInterrupt):
        SaveImage(tmp_path / "cut", output_ext=".png", output_postfix="", separate_folder=False,
                  writer=AtomicPILWriter, print_log=False)(mask, meta_data={"filename_or_obj": "b.dcm"})  # fmt: skip
    assert os.listdir(tmp_path / "cut") == []  # neither a half PNG nor a temporary
