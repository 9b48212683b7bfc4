"""monai_cbis.transforms.crop_scale: the film scale of a crop-trained segmenter, from hand-made lesion boxes."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

import monai_cbis.transforms.crop_scale as crop_scale_module
from monai_cbis.transforms import get_preset
from monai_cbis.transforms.crop_scale import crop_scale, crop_scales, downsample_from_scales, film_scale


def _mask(path, shape, box) -> dict:
    """A PNG mask of ``shape`` (rows, columns) with lesion rows ``box[0]:box[1]``, columns ``box[2]:box[3]``."""
    a = np.zeros(shape, np.uint8)
    a[box[0] : box[1], box[2] : box[3]] = 255
    Image.fromarray(a).save(path)
    return {"image": str(path), "label": str(path)}


def test_scale_is_the_geometric_mean_of_the_axis_scales_with_the_margin_and_clipping():
    mask = np.zeros((1, 300, 200), np.uint8)  # (C, W, H)
    mask[0, 100:140, 50:70] = 1  # 40 x 20, + 10 each side: 60 x 40 onto 20 x 20 -> 3 and 2
    assert crop_scale(mask, 20, margin=10) == pytest.approx(np.sqrt(3 * 2))
    mask[0, 0:40] = 0
    mask[0, 0:30, 0:30] = 1  # clipped at the film's edge: 40 x 40 onto 20 x 10 -> 2 and 4
    mask[0, 100:140, 50:70] = 0
    assert crop_scale(mask, (20, 10), margin=10) == pytest.approx(np.sqrt(2 * 4))


def test_scale_follows_the_largest_lesion_as_the_crop_does():
    mask = np.zeros((1, 400, 400), np.uint8)
    mask[0, 10:20, 10:20] = 1  # a small second component is not cropped
    mask[0, 200:300, 200:300] = 1
    assert crop_scale(mask, 50, margin=0) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("scales", "factor"),
    [([2.4, 3.0, 4.1], 3), ([1.0, 2.5, 2.5, 9.0], 3), ([2.49], 2), ([0.3, 0.6, 0.7], 1), ([1.4, 1.6], 2)],
)
def test_downsample_is_the_rounded_median_at_least_one(scales, factor):
    assert downsample_from_scales(scales) == factor


def test_no_scales_is_an_error():
    with pytest.raises(ValueError, match="no lesion"):
        downsample_from_scales([])


def test_auto_reads_each_mask_once_and_records_how(tmp_path, monkeypatch, caplog):
    # crops of 96, 160 and 256 film pixels onto 32 (margin 16): scales 3, 5 and 8 -> median 5
    items = [
        _mask(tmp_path / f"m{i}.png", (400, 400), (100, 100 + s, 100, 100 + s)) for i, s in enumerate((64, 128, 224))
    ]
    preset = get_preset("roi_crop", image_size=32, mask_key="label", margin=16)
    with caplog.at_level(logging.INFO, logger=crop_scale_module.__name__):
        got = film_scale("auto", preset, items, cache_dir=str(tmp_path / "cache"))
    assert got["downsample"] == 5 and got["requested"] == "auto" and got["n_lesions"] == 3
    assert got["median_crop_scale"] == pytest.approx(5.0) and got["quartiles"] == pytest.approx([4.0, 6.5])
    assert "divided by 5" in caplog.text

    def no_read(path):
        raise AssertionError(f"{path} read again")

    monkeypatch.setattr(crop_scale_module, "read_array", no_read)  # the cached scales are read instead
    assert film_scale("auto", preset, items, cache_dir=str(tmp_path / "cache")) == got
    monkeypatch.undo()
    _mask(tmp_path / "m2.png", (400, 400), (100, 132, 100, 132))  # a replaced mask: 64 px crop -> scale 2
    assert crop_scales(items, 32, 16, cache_dir=str(tmp_path / "cache")) == pytest.approx([3.0, 5.0, 2.0])


def test_enlarged_crops_keep_the_films_pixels_and_warn(tmp_path, caplog):
    items = [_mask(tmp_path / "m.png", (300, 300), (100, 110, 100, 110))]  # 10 + 2 x 4 = 18 onto 36: scale 0.5
    preset = get_preset("roi_crop", image_size=36, mask_key="label", margin=4)
    with caplog.at_level(logging.WARNING, logger=crop_scale_module.__name__):
        assert film_scale("auto", preset, items)["downsample"] == 1
    assert "2.0 times smaller" in caplog.text


def test_a_given_factor_reads_no_mask_and_bad_values_name_the_options():
    preset = get_preset("roi_crop", image_size=32, mask_key="label")
    assert film_scale(4, preset, [{"label": "/does/not/exist.png"}]) == {
        "downsample": 4,
        "requested": 4,
        "rule": "given",
    }
    for bad in (0, 2.5, "half", True):
        with pytest.raises(ValueError, match="'auto' or an int >= 1"):
            film_scale(bad, preset)


def test_an_empty_mask_or_missing_key_names_the_item(tmp_path):
    empty = _mask(tmp_path / "empty.png", (50, 50), (0, 0, 0, 0))
    with pytest.raises(ValueError, match="empty.png: cannot derive its crop's scale"):
        crop_scales([empty], 32, 0)
    with pytest.raises(KeyError, match="Item 0 has no 'label'"):
        crop_scales([{"image": "a.png"}], 32, 0)


def test_unreadable_or_empty_training_masks_are_left_out_counted_and_named(tmp_path, caplog):
    # as training skips them with --skip_unreadable true; the direct call without a ledger still raises
    good = [_mask(tmp_path / f"m{i}.png", (400, 400), (100, 100 + s, 100, 100 + s)) for i, s in enumerate((64, 128))]
    empty = _mask(tmp_path / "empty.png", (400, 400), (0, 0, 0, 0))
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(b"\x89PNG not really")
    items = [good[0], empty, {"image": str(damaged), "label": str(damaged)}, good[1]]
    preset = get_preset("roi_crop", image_size=32, mask_key="label", margin=16)
    cache = str(tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger=crop_scale_module.__name__):
        got = film_scale("auto", preset, items, cache_dir=cache)
    assert got["n_lesions"] == 2 and got["median_crop_scale"] == pytest.approx(4.0) and got["downsample"] == 4
    assert got["n_skipped"] == 2 and [s["path"] for s in got["skipped"]] == [empty["label"], str(damaged)]
    assert "Left 2 training mask(s) out" in caplog.text and "damaged.png" in caplog.text
    assert film_scale("auto", preset, items, cache_dir=cache) == got  # from the cache, skips included
    with pytest.raises(ValueError, match="empty.png: cannot derive its crop's scale"):
        crop_scales(items, 32, 16, cache_dir=cache)  # no ledger: the cached skips are not reused silently
