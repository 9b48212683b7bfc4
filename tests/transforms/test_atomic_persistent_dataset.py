"""AtomicPersistentDataset / cached_dataset: cache hits with metadata, parameter-aware keys, atomic writes, workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import torch
from monai.data import DataLoader, PersistentDataset

from monai_cbis.transforms import (
    AtomicPersistentDataset,
    cached_dataset,
    full_mammogram_transforms,
    transform_fingerprint,
)


@pytest.fixture
def items(tmp_path, phantom, write_dicom):
    out = []
    for i, side in enumerate(["LEFT", "RIGHT", "LEFT", "RIGHT"]):
        ph = phantom(rows=160, cols=100, laterality=side, seed=i)
        image = write_dicom(tmp_path / f"img{i}.dcm", ph.image, pixel_spacing=(0.05, 0.05))
        mask = write_dicom(tmp_path / f"mask{i}.dcm", ph.masks[0])
        out.append({"image": image, "label": [mask], "laterality": side})
    return out


def _entries(cache_dir) -> list:
    return sorted(p.name for p in cache_dir.glob("*.pt"))


def test_second_dataset_reads_everything_back_with_metadata(items, tmp_path):
    preset = full_mammogram_transforms(64)
    cache = tmp_path / "cache"
    first = cached_dataset(items, preset.inference(), cache)
    computed = [first[i] for i in range(len(items))]
    assert first.computed == len(items) and len(_entries(cache)) == len(items)
    second = AtomicPersistentDataset(items, preset.deterministic, cache)
    for i, ref in enumerate(computed):
        got = second[i]
        assert torch.equal(got["label"], ref["label"])
        np.testing.assert_allclose(got["image"].meta["spacing"], [0.05, 0.05])
        assert [op["class"] for op in got["image"].applied_operations] == ["TrimBorder", "FastResize", "FlipToLeft"]
    assert second.computed == 0  # every item was a cache hit
    back = preset.deterministic.inverse(second[1])  # a cached item still inverts onto the DICOM grid
    assert back["image"].applied_operations == [] and tuple(back["image"].shape) == (1, 100, 160)
    path = second.cache_path(items[0])
    assert isinstance(torch.load(path, weights_only=True)["image"], torch.Tensor)  # safe loading works


def test_monai_persistent_dataset_never_hits_with_metadata(items, tmp_path):
    """Why the subclass exists: MONAI's own class recomputes every time once metadata is kept."""
    preset = full_mammogram_transforms(64)
    ds = PersistentDataset(items[:1], preset.deterministic, tmp_path / "monai", track_meta=True)
    ds[0]
    with pytest.warns(UserWarning, match="Corrupt cache file detected"):
        ds[0]


def test_parameters_and_files_are_part_of_the_key(items, tmp_path):
    cache = tmp_path / "cache"
    base = full_mammogram_transforms(64)
    AtomicPersistentDataset(items, base.deterministic, cache)[0]
    for changed in (full_mammogram_transforms(48), full_mammogram_transforms(64, clip_limit=3.0)):
        ds = AtomicPersistentDataset(items, changed.deterministic, cache)
        assert ds.transform_hash != transform_fingerprint(base.deterministic)
        ds[0]
        assert ds.computed == 1
    same = AtomicPersistentDataset(items, full_mammogram_transforms(64).deterministic, cache)
    same[0]
    assert same.computed == 0  # equal settings, new objects: same key
    time.sleep(0.01)
    os.utime(items[0]["image"])  # the file changed on disk
    same[0]
    assert same.computed == 1


def test_fingerprint_is_stable_across_processes(tmp_path):
    code = "from monai_cbis.transforms import *; print(transform_fingerprint(full_mammogram_transforms(64).train()))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # this process has another (random) hash seed
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip().splitlines()[-1] == transform_fingerprint(full_mammogram_transforms(64).deterministic)


def test_killed_mid_write_leaves_no_entry(items, tmp_path):
    """A process killed while writing leaves only a temporary file, which is never read."""
    cache = tmp_path / "cache"
    script = textwrap.dedent(
        f"""
        import os, signal, torch
        from monai_cbis.transforms import cached_dataset, full_mammogram_transforms
        real_save = torch.save
        def dying_save(obj, f, **kwargs):
            f.write(b"PK\\x03\\x04 half of a zip file")  # a partial write ...
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)  # ... and the process dies
        torch.save = dying_save
        ds = cached_dataset({items[:1]!r}, full_mammogram_transforms(64), {str(cache)!r})
        ds[0]
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    assert _entries(cache) == [] and len(list(cache.glob(".*.tmp"))) == 1
    ds = cached_dataset(items[:1], full_mammogram_transforms(64), cache)
    assert tuple(ds[0]["image"].shape) == (1, 64, 64) and ds.computed == 1
    assert len(_entries(cache)) == 1
    leftover = next(cache.glob(".*.tmp"))
    old = time.time() - 2 * 24 * 3600
    os.utime(leftover, (old, old))
    cached_dataset(items[:1], full_mammogram_transforms(64), cache)  # stale temporaries are cleaned up
    assert not leftover.exists()


def test_corrupt_entry_is_recomputed_not_fatal(items, tmp_path):
    cache = tmp_path / "cache"
    ds = cached_dataset(items[:1], full_mammogram_transforms(64).inference(), cache)
    ref = ds[0]
    path = ds.cache_path(items[0])
    path.write_bytes(path.read_bytes()[:100])  # truncated under the final name (e.g. written by another tool)
    fresh = cached_dataset(items[:1], full_mammogram_transforms(64).inference(), cache)
    with pytest.warns(UserWarning, match="Unreadable cache entry .* deleting and recomputing"):
        got = fresh[0]
    assert fresh.computed == 1 and torch.equal(got["label"], ref["label"])
    assert torch.load(path, weights_only=True) is not None  # rewritten whole


def test_several_workers_fill_the_cache_once(items, tmp_path):
    cache = tmp_path / "cache"
    preset = full_mammogram_transforms(64)
    loader = DataLoader(cached_dataset(items * 2, preset, cache), batch_size=2, num_workers=2)
    batches = list(loader)
    assert sum(b["image"].shape[0] for b in batches) == 2 * len(items)
    assert len(_entries(cache)) == len(items) and list(cache.glob(".*.tmp")) == []
    check = AtomicPersistentDataset(items, preset.deterministic, cache)
    [check[i] for i in range(len(items))]
    assert check.computed == 0


def test_fixed_arguments_are_refused(items, tmp_path):
    with pytest.raises(TypeError, match="sets 'hash_func' itself"):
        AtomicPersistentDataset(items, full_mammogram_transforms(64).deterministic, tmp_path, hash_func=hash)
    nocache = AtomicPersistentDataset(items[:1], full_mammogram_transforms(64).deterministic, None)
    assert tuple(nocache[0]["image"].shape) == (1, 64, 64) and nocache.cache_path(items[0]) is None


def test_a_writer_killed_from_outside_mid_write_leaves_nothing_the_next_run_reads(items, tmp_path):
    """SIGKILL from another process while a cache entry is being written (slowly, in chunks): the next run finds
    no entry, recomputes it without a warning, and the temporary left behind is never read as an entry."""
    cache, started = tmp_path / "cache", tmp_path / "started"
    script = textwrap.dedent(
        f"""
        import io, pathlib, time, torch
        from monai_cbis.transforms import cached_dataset, full_mammogram_transforms
        real_save = torch.save
        def slow_save(obj, f, **kwargs):
            buf = io.BytesIO()
            real_save(obj, buf, **kwargs)
            data = buf.getvalue()
            for i in range(0, len(data), 4096):  # a large write, 4 KiB at a time
                f.write(data[i : i + 4096])
                f.flush()
                pathlib.Path({str(started)!r}).touch()
                time.sleep(0.05)
        torch.save = slow_save
        ds = cached_dataset({items[:1]!r}, full_mammogram_transforms(128), {str(cache)!r})
        ds[0]
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not started.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        assert started.exists(), proc.communicate()[1]
        proc.send_signal(signal.SIGKILL)  # killed by someone else, in the middle of the write
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    partial = list(cache.glob(".*.tmp"))
    assert _entries(cache) == [] and len(partial) == 1 and 0 < partial[0].stat().st_size
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = cached_dataset(items[:1], full_mammogram_transforms(128), cache)
        got = ds[0]
    assert not [w for w in caught if "cache entry" in str(w.message)]  # the partial file is never looked at
    assert ds.computed == 1 and tuple(got["image"].shape) == (1, 128, 128)
    assert _entries(cache) == [ds.cache_path(items[0]).name]
    again = cached_dataset(items[:1], full_mammogram_transforms(128), cache)
    again[0]
    assert again.computed == 0  # the complete entry is read back
