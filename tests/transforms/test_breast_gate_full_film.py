"""The breast gate on a full-size synthetic film (issue 10): a predicted blob on the scanner label is removed, a
predicted lesion inside the breast is kept, and what was removed is counted.

The film is rendered in memory by the synthetic collection's own drawing code (the pixels
``make_synthetic_cbis(full_size=True)`` writes, about 5000 x 3000, 1 CPU-s), and preprocessed as ``unet_effb3``
preprocesses it (the full-mammogram preset at 224 x 224: trim, resize, flip to the left, CLAHE, median), where the
bundle's post-processing gates its prediction. On this MLO film the breast and pectoral muscle span the film's
height, so the scanner label lies inside the breast's bounding box: the box lets the label blob through, the outline
(the default region) removes it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose

from monai_cbis.data.synthetic.collection import FULL_IMAGE_SIZE
from monai_cbis.data.synthetic.drawing import render_film
from monai_cbis.data.synthetic.plan import make_plan
from monai_cbis.transforms import GateByBreastd, full_mammogram_transforms
from monai_cbis.transforms.boxes import components

SEED, FILM = 0, 3  # make_plan(8, 0) at full size: film 3 is an MLO whose label lies inside the breast's box


@pytest.fixture(scope="module")
def working_film():
    """``(image, index)`` at 224 x 224: the preprocessed film, and an index map with 1 on the scanner label's
    footprint and 2 on a lesion, moved through the same geometry by the preset (its lesion index map)."""
    film = make_plan(8, SEED, base_size=FULL_IMAGE_SIZE).films[FILM]
    r = render_film(film, SEED)
    rows, cols = r.pixels.shape
    assert rows * cols > 4000 * 2500 and film.view == "MLO"  # a full-size film
    top = 4095 if film.bits_stored == 12 else 65535
    bright = ((r.pixels > 0.86 * top) & ~r.breast).astype(np.uint8)
    # the label: a bright rectangle in the background that touches no edge of the film (the border bands do)
    label = [c for c in components(bright) if c[0] > 0 and c[1] < rows and c[2] > 0 and c[3] < cols and c[4] > 1000]
    assert len(label) == 1
    s0, e0, s1, e1, _ = label[0]
    blob = np.zeros((rows, cols), np.uint8)
    blob[s0:e0, s1:e1] = 255
    lesion = next(iter(r.lesions.values())).full_mask(rows, cols)
    preset = full_mammogram_transforms(image_size=224)
    steps = Compose(preset.deterministic.transforms[1:])  # everything after the file loader
    item = {
        "image": MetaTensor(torch.as_tensor(r.pixels.T[None].astype(np.int32))),
        "label": MetaTensor(torch.as_tensor(np.stack([blob.T, lesion.T]))),
        "laterality": film.side,
    }
    out = steps(item)
    return out["image"], out["label_index"][0].numpy().round().astype(int)


def test_outline_gate_removes_the_label_blob_and_keeps_the_lesion(working_film):
    image, index = working_film
    blob, lesion = index == 1, index == 2
    assert blob.sum() > 100 and lesion.sum() > 20
    pred = torch.as_tensor((index > 0)[None].astype(np.float32))
    out = GateByBreastd(keys=["pred", "prob"])({"image": image, "pred": pred, "prob": pred * 0.9})
    gated = out["pred"][0].numpy()
    assert not gated[blob].any()  # the label blob is gone
    assert gated[lesion].all()  # the lesion is untouched
    assert out["breast_gate"] == {"removed_pixels": int(blob.sum()), "removed_components": 1}
    assert not out["prob"][0].numpy()[blob].any() and out["prob"][0].numpy()[lesion].min() == pytest.approx(0.9)


def test_the_bounding_box_would_let_the_label_blob_through(working_film):
    image, index = working_film
    pred = torch.as_tensor((index > 0)[None].astype(np.float32))
    out = GateByBreastd(keys="pred", region="box")({"image": image, "pred": pred})
    gated = out["pred"][0].numpy()
    assert gated[index == 1].sum() > 0.5 * (index == 1).sum()  # most of the label blob survives the box
    assert out["breast_gate"]["removed_components"] == 0
