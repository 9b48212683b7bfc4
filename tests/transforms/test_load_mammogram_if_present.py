"""LoadMammogramIfPresentd: loads the keys an item has, passes the items that lack them, and is no LoadImaged (so
MONAI Label does not swap it for its LoadImageTensord)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, LoadImaged

from monai_cbis.transforms import LoadMammogramd, LoadMammogramIfPresentd


@pytest.fixture
def files(tmp_path, write_dicom):
    rng = np.random.default_rng(0)
    image = write_dicom(tmp_path / "full.dcm", rng.integers(0, 4096, (40, 24)).astype(np.uint16), bits_stored=12)
    masks = []
    for i in range(2):
        m = np.zeros((40, 24), np.uint8)
        m[5 + 10 * i : 12 + 10 * i, 4:9] = 255
        masks.append(write_dicom(tmp_path / f"mask{i}.dcm", m))
    return image, masks


def test_a_present_key_loads_as_with_load_mammogramd(files):
    image, masks = files
    for mask in (masks[0], masks):  # one file, or a list stacked as channels
        out = LoadMammogramIfPresentd("mask")({"image": image, "mask": mask})
        ref = LoadMammogramd("mask")({"mask": mask})["mask"]
        assert isinstance(out["mask"], MetaTensor) and out["mask"].dtype == ref.dtype == torch.uint8
        assert torch.equal(out["mask"].as_tensor(), ref.as_tensor()) and out["mask"].shape[1:] == (24, 40)
        assert out["mask"].meta["filename_or_obj"] == ref.meta["filename_or_obj"]
        assert out["image"] == image  # other keys are left alone


def test_an_absent_key_passes(files):
    image, _ = files
    item = {"image": image, "label": 1}
    assert LoadMammogramIfPresentd(["mask", "box"])(item) == item


def test_loader_settings_pass_through(files):
    image, masks = files
    out = LoadMammogramIfPresentd(["image", "mask"], dtype=np.float32)({"image": image, "mask": masks[0]})
    assert out["image"].dtype == out["mask"].dtype == torch.float32


def test_is_no_load_imaged_so_monai_label_leaves_it_alone(files):
    """MONAI Label replaces each LoadImaged by LoadImageTensord, which indexes every key of the LoadImaged: an
    optional key loaded by a LoadImaged fails there even with allow_missing_keys=True."""
    pre = pytest.importorskip("monailabel.transform.pre")
    image, masks = files
    assert isinstance(LoadMammogramd("image"), LoadImaged) and not isinstance(
        LoadMammogramIfPresentd("mask"), LoadImaged
    )

    def as_monai_label(transforms):  # what monailabel.tasks.infer.bundle does with a bundle's preprocessing
        return Compose(
            [pre.LoadImageTensord(keys=t.keys, load_image_d=t) if isinstance(t, LoadImaged) else t for t in transforms]
        )

    item = {"image": image}
    with pytest.raises(RuntimeError) as e:
        as_monai_label([LoadMammogramd(["image", "mask"], allow_missing_keys=True)])(dict(item))
    assert isinstance(e.value.__cause__, KeyError)
    out = as_monai_label([LoadMammogramd("image"), LoadMammogramIfPresentd("mask")])(dict(item))
    assert "mask" not in out and out["image"].shape == (1, 24, 40)
    out = as_monai_label([LoadMammogramd("image"), LoadMammogramIfPresentd("mask")])({**item, "mask": masks[1]})
    assert out["mask"].shape == (1, 24, 40)
