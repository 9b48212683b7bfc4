"""Report fixtures shared by the comparison tests: real metrics.json contents written into a folder tree.

The metrics.json files are made by the real summarize_segmentation / classification_metrics (and, where a test
needs the ``model_name`` keyword, by the real report handlers on a tiny Ignite engine).
"""

from __future__ import annotations

import json
import os
import re
from types import SimpleNamespace

import numpy as np
import pytest

from monai_cbis.evaluation import classification_metrics, segmentation_metrics, summarize_segmentation

METADATA_NAME = "CBIS-DDSM full-mammogram lesion segmentation (U-Net, EfficientNet-B3 encoder)"

# What metrics.json files written before the figures moved to the bundle specs hold under "paper_reference": not the
# reference shape, so the report falls back to the spec of the model's name.
OLD_CLASSIFICATION_REFERENCE = {
    "paper_B_test_accuracy": {"vgg16": 0.7739, "resnet50": 0.7646, "densenet121": 0.7692, "mobilenetv2": 0.6294},
    "literature_whole_image_auc_range": [0.76, 0.88],
    "note": "Published numbers, not results of this run.",
}


def seg_metrics(n=6, shift=2, size=64, lesion=12, seed=0, **extra) -> dict:
    """A real segmentation summary: square lesions, predictions shifted by ``shift`` pixels."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        r, c = rng.integers(0, size - lesion - shift, size=2)
        label, pred = np.zeros((1, size, size)), np.zeros((1, size, size))
        label[0, r : r + lesion, c : c + lesion] = 1
        pred[0, r + shift : r + shift + lesion, c : c + lesion] = 1
        rows.append(segmentation_metrics(label, pred))
    return {**extra, **summarize_segmentation(rows)}


def cls_metrics(n=40, n_malignant=14, noise=0.3, seed=0, **extra) -> dict:
    """Real classification metrics: probability = label * 0.5 + 0.25 + noise (an older-style paper_reference)."""
    rng = np.random.default_rng(seed)
    y = np.array([1] * n_malignant + [0] * (n - n_malignant))
    p = np.clip(0.25 + 0.5 * y + rng.normal(0, noise, n), 0, 1)
    return {**extra, **classification_metrics(y, p), "paper_reference": OLD_CLASSIFICATION_REFERENCE}


def put(path, obj) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return str(path)


def make_tree(root) -> dict:
    """A bundle without 'model' in its metrics, reports with 'model', an unknown model; returns the paths to pass."""
    root = str(root)
    bundle = os.path.join(root, "bundles", "unet_effb3")
    put(os.path.join(bundle, "configs", "metadata.json"), {"name": METADATA_NAME})
    put(os.path.join(bundle, "eval", "metrics.json"), seg_metrics(shift=1))
    roi = os.path.join(root, "runs", "roi_eval")
    put(os.path.join(roi, "metrics.json"), seg_metrics(shift=4, seed=1, model="unet_roi"))
    vgg = os.path.join(root, "runs", "vgg16", "metrics.json")
    put(vgg, cls_metrics(model="vgg16_classification"))
    mine = os.path.join(root, "runs", "my_cnn")
    put(os.path.join(mine, "metrics.json"), cls_metrics(noise=0.6, seed=2))
    return {"unet_effb3": bundle, "unet_roi": roi, "vgg16_classification": vgg, "my_cnn": mine}


def table_rows(markdown: str, section: str) -> dict[str, dict[str, str]]:
    """``{model: {column: cell}}`` of the table under ``## section``."""
    lines = markdown.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0].strip().splitlines()
    table = [ln for ln in lines if ln.startswith("|")]
    split = [[c.strip() for c in re.split(r"(?<!\\)\|", ln.strip()[1:-1])] for ln in table]
    header, body = split[0], split[2:]
    return {r[0]: dict(zip(header, r, strict=True)) for r in body}


@pytest.fixture
def rep() -> SimpleNamespace:
    """The report helpers above, for the tests of this folder."""
    return SimpleNamespace(
        METADATA_NAME=METADATA_NAME,
        seg_metrics=seg_metrics,
        cls_metrics=cls_metrics,
        put=put,
        make_tree=make_tree,
        table_rows=table_rows,
    )
