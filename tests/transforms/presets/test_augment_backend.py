"""The presets' ``augment_backend`` switch: "monai" stays the default, "opencv" is one RandOpenCVAugmentd with the
same settings, the cache is shared, bad values fail clearly."""

from __future__ import annotations

import pytest
from monai.transforms import RandRotated

from monai_cbis.transforms import RandOpenCVAugmentd, get_preset, transform_fingerprint

CASES = [
    ("full_mammogram", {"image_size": 32}, ["image", "label", "label_index"], ["bilinear", "nearest", "nearest"], (1,)),
    ("roi_crop", {"image_size": 32, "mask_key": "label"}, ["image", "label"], ["bilinear", "nearest"], (0, 1)),
]


@pytest.mark.parametrize("name, kwargs, keys, modes, axes", CASES)
def test_opencv_backend_is_one_pass_with_the_same_settings_and_cache(name, kwargs, keys, modes, axes):
    plain = get_preset(name, **kwargs)
    fast = get_preset(name, **kwargs, augment_backend="opencv", augment={"zoom_prob": 0.7})
    assert plain.params["augment_backend"] == "monai" and isinstance(plain.random.transforms[0], RandRotated)
    (t,) = fast.random.transforms
    assert isinstance(t, RandOpenCVAugmentd) and list(t.keys) == keys and list(t.mode) == modes
    assert t.intensity_keys == {"image"} and t.augment.flip_axes == axes
    assert t.augment.zoom_prob == 0.7 and t.augment.rotate_prob == fast.params["augment"]["rotate_prob"]
    assert transform_fingerprint(fast.train()) == transform_fingerprint(plain.train())


def test_unknown_backend_and_opencv_on_a_device_are_errors():
    with pytest.raises(ValueError, match=r"Unsupported augment_backend: 'cv2'.*\['monai', 'opencv'\]"):
        get_preset("full_mammogram", augment_backend="cv2")
    with pytest.raises(ValueError, match="augment_device"):
        get_preset("roi_crop", augment_backend="opencv", augment_device="cuda:0")
