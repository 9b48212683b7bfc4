"""monai_cbis.bundle: the old names still import (configs written before issue 12), from their new homes."""

from __future__ import annotations

import subprocess
import sys

from monai_cbis import bundle, bundle_root, handlers
from monai_cbis.data import demo, inference_inputs, items, sampling

HOMES = {
    "DEMO": demo,
    "cache_root": demo,
    "demo_data_dir": demo,
    "resolve_dataset_dir": demo,
    "section_items": items,
    "lesion_items": items,
    "pathology_classes": items,
    "folder_items": inference_inputs,
    "inference_items": inference_inputs,
    "inference_root": inference_inputs,
    "lesion_inference_items": inference_inputs,
    "lesion_inference_root": inference_inputs,
    "CLASS_BALANCE": sampling,
    "train_sampler": sampling,
    "loss_class_weights": sampling,
    "latest_checkpoint": handlers,
    "infer_bundle_root": bundle_root,
}


def test_every_old_name_is_its_new_home():
    assert sorted(bundle.__all__) == sorted(HOMES)
    for name, home in HOMES.items():
        assert getattr(bundle, name) is getattr(home, name), name


def test_importing_the_compatibility_module_stays_light():
    code = "import sys, monai_cbis.bundle as b; assert 'torch' not in sys.modules; b.section_items; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
