"""ResizeToSpacing(d): a film resized from its own pixel size to a target in mm, inverted back onto its pixels; a
film without a usable spacing is an error naming it, or (with a fallback) a logged, counted assumption."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose

from monai_cbis.transforms import FastResize, ResizeToSpacing, ResizeToSpacingd, TrimBorder, film_spacing_mm
from monai_cbis.transforms.pixel_spacing import fallback_count


def _film(shape=(300, 500), spacing=(0.1, 0.05), source="PixelSpacing", name="film.dcm", dtype=np.uint16):
    affine = torch.diag(torch.tensor([*spacing, 1.0], dtype=torch.float64))
    meta = {"spacing_source": source, "filename_or_obj": name, "spacing": np.asarray(spacing)}
    rng = np.random.default_rng(0)
    return MetaTensor(rng.integers(0, 4000, (1, *shape)).astype(dtype), affine=affine, meta=meta)


def _pixel(img) -> list[float]:
    return [abs(float(v)) for v in img.affine.diagonal()[:2]]


@pytest.mark.parametrize(
    ("spacing", "target", "size"), [((0.1, 0.05), 0.2, (150, 125)), ((0.05, 0.05), 0.02, (750, 1250))]
)
def test_film_goes_to_the_target_pixel_size_and_back(spacing, target, size):
    film = _film(spacing=spacing)
    resize = ResizeToSpacing(target)
    out = resize(film)
    assert tuple(out.shape[1:]) == size and out.dtype == torch.float32
    assert np.allclose(_pixel(out), [target, target], rtol=1e-3)  # the affine records the new pixel size
    info = out.applied_operations[-1]["extra_info"]
    assert info["spacing_from"] == "PixelSpacing" and info["spacing_mm"] == list(spacing)
    back = resize.inverse(out)
    assert tuple(back.shape) == tuple(film.shape) and back.applied_operations == []
    assert np.allclose(_pixel(back), spacing)


def test_spacing_comes_from_the_affine_after_a_crop_or_a_resize():
    film = TrimBorder(0.1)(_film(spacing=(0.1, 0.1)))  # a crop moves the origin, not the pixel size
    assert film_spacing_mm(film) == ((pytest.approx(0.1), pytest.approx(0.1)), "PixelSpacing")
    assert tuple(ResizeToSpacing(0.2)(film).shape[1:]) == tuple(round(s / 2) for s in film.shape[1:])
    halved = FastResize(2, size_mode="downsample")(_film(spacing=(0.1, 0.1)))  # now 0.2 mm pixels
    assert tuple(ResizeToSpacing(0.4)(halved).shape[1:]) == (75, 125)


def test_masks_take_the_film_spacing_and_a_known_mask_round_trips():
    """The masks carry no spacing of their own: the film's sizes them. A lesion on the 2 x 2 blocks that a 0.1 ->
    0.2 mm resize averages comes back exactly, through Compose's inverse (as Invertd runs it)."""
    film = _film(shape=(64, 48), spacing=(0.1, 0.1))
    mask = np.zeros((2, 64, 48), np.uint8)
    mask[0, 10:20, 6:30] = 255
    mask[1, 40:52, 30:44] = 255
    pipeline = Compose([ResizeToSpacingd(["image", "label"], 0.2, ("bilinear", "nearest"), source_key="image")])
    out = pipeline({"image": film, "label": mask})
    assert tuple(out["image"].shape[1:]) == tuple(out["label"].shape[1:]) == (32, 24)
    assert out["label"].applied_operations[-1]["extra_info"]["spacing_mm"] == [0.1, 0.1]
    back = pipeline.inverse(out)["label"]
    assert back.applied_operations == [] and np.array_equal(back.numpy(), mask)


def test_film_without_spacing_is_an_error_naming_it():
    for film in (_film(source="default", name="/data/Calc-Test_P_00038_LEFT_CC/1-1.dcm"), np.ones((1, 40, 30))):
        with pytest.raises(ValueError) as err:
            ResizeToSpacingd(["image", "label"], 0.2)({"image": film, "label": np.zeros((1, 40, 30))})
        text = str(err.value)
        assert text.startswith("ResizeToSpacingd: key 'image': ") and "no usable pixel spacing" in text
        assert "fallback_spacing_mm" in text and "downsample" in text
    assert "Calc-Test_P_00038_LEFT_CC/1-1.dcm" in str(
        pytest.raises(
            ValueError, ResizeToSpacing(0.2), _film(source="default", name="/d/Calc-Test_P_00038_LEFT_CC/1-1.dcm")
        ).value
    )


def test_fallback_is_logged_counted_and_recorded(caplog):
    film = _film(shape=(200, 100), spacing=(1.0, 1.0), source="default", name="/jpeg/1-263.jpg", dtype=np.uint8)
    before = fallback_count()
    with caplog.at_level(logging.WARNING, logger="monai_cbis.transforms.pixel_spacing"):
        out = ResizeToSpacingd(["image", "label"], 0.2, fallback_spacing_mm=0.05)(
            {"image": film, "label": np.zeros((1, 200, 100), np.uint8)}
        )
    assert fallback_count() == before + 1  # once per film, not per key
    assert [r.getMessage() for r in caplog.records if "1-263.jpg" in r.getMessage()] == [
        f"/jpeg/1-263.jpg: no PixelSpacing or ImagerPixelSpacing; resized to 0.2 mm pixels as if its own were 0.05 mm "
        f"(fallback_spacing_mm; film {before + 1} on the fallback in this process)."
    ]
    assert tuple(out["image"].shape[1:]) == tuple(out["label"].shape[1:]) == (50, 25)
    assert out["image"].applied_operations[-1]["extra_info"]["spacing_from"] == "fallback"
    assert out["image"].meta["spacing_source"] == "default"  # areas stay in pixels: the size was assumed


@pytest.mark.parametrize(
    "kwargs",
    [{"target_spacing_mm": 0}, {"target_spacing_mm": -0.1}, {"target_spacing_mm": "x"},
     {"target_spacing_mm": float("nan")}, {"target_spacing_mm": 0.2, "fallback_spacing_mm": 0}],
)  # fmt: skip
def test_bad_pixel_sizes_are_refused(kwargs):
    with pytest.raises(ValueError, match="must be a positive pixel size in mm"):
        ResizeToSpacing(**kwargs)


def test_a_film_without_a_channel_is_refused():
    with pytest.raises(ValueError, match=r"expects a 2-D image \(C, W, H\), got shape \(30, 50\)"):
        ResizeToSpacing(0.2, fallback_spacing_mm=0.1)(np.ones((30, 50)))
