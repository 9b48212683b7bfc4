"""MONAI Label 0.8.5 runs bundles/unet_highres's inference task (no server): the sliding window over the whole
working film, the mask back at the film's size and orientation (as test_monailabel.py checks for unet_effb3)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import torch
from monai.bundle import ConfigParser
from monailabel.tasks.infer.bundle import BundleInferTask
from PIL import Image

from monai_cbis.data import make_synthetic_cbis, read_array, read_header

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_infer_task_segments_the_whole_breast_into_a_mask_of_the_films_size(tmp_path):
    """Weights that call every pixel lesion, the breast gate off: the mask is the breast crop (the sliding window
    covered all of it) at the film's size, holding the film's lesion and none of the trimmed border."""
    dst = tmp_path / "app" / "model" / "unet_highres"
    shutil.copytree(os.path.join(REPO, "bundles", "unet_highres"), dst, ignore=shutil.ignore_patterns("models", "eval"))
    inference = dst / "configs" / "inference.json"
    config = json.loads(inference.read_text())
    config.update({"gate_by_breast": False, "downsample": 2, "patch_size": [64, 64]})
    inference.write_text(json.dumps(config, indent=4))
    parser = ConfigParser()
    parser.read_config(str(inference))
    net = parser.get_parsed_content("network_def")
    last = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(8.0)
    (dst / "models").mkdir()
    torch.save(net.state_dict(), dst / "models" / "model.pt")

    task = BundleInferTask(str(dst), conf={})
    assert task.is_valid() and task.labels == {"lesion": 1}
    data = make_synthetic_cbis(tmp_path / "cbis", layout="classic", cases=8, seed=4)
    row = next(r for r in data.rows if not r.mask_wrong_size)
    result_file, _ = task(
        {"image": row.full_image, "device": "cpu", "result_extension": ".png", "result_dtype": "uint8"}
    )
    with Image.open(result_file) as im:
        mask = np.asarray(im)
    rows, cols = read_header(row.full_image).shape
    assert mask.shape == (rows, cols) and set(np.unique(mask)) == {0, 1}
    assert mask[read_array(row.mask) > 127].all()  # the lesion lies inside the segmented breast
    border = max(1, int(0.02 * min(rows, cols)))
    assert not mask[:border].any() and not mask[-border:].any()  # the trimmed border is never segmented
    ys, xs = np.nonzero(mask)
    box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
    assert mask.sum() == box < mask.size  # one rectangle (the breast crop, filled by the windows), not the film
