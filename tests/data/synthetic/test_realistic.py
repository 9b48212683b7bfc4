"""``make_synthetic_cbis(realistic_lesions=True)``: sizes measured on the masks in mm, sub-mm specks, contrast falling
with breast density, and the default output left exactly as it was."""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pydicom
import pytest

from monai_cbis.cli import main as cli_main
from monai_cbis.data.synthetic import MIN_CASES, make_synthetic_cbis
from monai_cbis.data.synthetic.drawing import render_film
from monai_cbis.data.synthetic.model import Film, Lesion
from monai_cbis.data.synthetic.plan import make_plan
from monai_cbis.data.synthetic.realistic import (
    CLUSTER_DIAMETER_MM,
    MASS_DIAMETER_MM,
    SPECK_LENGTH_MM,
    RealisticLesions,
    draw_realistic_cluster,
    draw_realistic_mass,
    pixel_spacing_mm,
)


def _rngs(key: int):
    return np.random.default_rng([0, 2, key]), np.random.default_rng([1, key])


def _diameter_mm(mask: np.ndarray, spacing: float) -> float:
    """Equivalent-circle diameter of a mask, in mm."""
    return float(2.0 * np.sqrt((mask > 0).sum() / np.pi) * spacing)


def test_mass_diameters_span_4_to_40_mm_log_uniformly():
    spacing = 0.1
    sizes = np.array(
        [_diameter_mm(draw_realistic_mass(k % 2 == 1, 2, spacing, *_rngs(k)).mask, spacing) for k in range(60)]
    )
    lo, hi = MASS_DIAMETER_MM
    assert sizes.min() >= lo * 0.95 - spacing and sizes.max() <= hi * 1.05 + spacing, sizes
    assert sizes.min() < 6 and sizes.max() > 25, "the whole range is drawn"
    assert 8 < np.median(sizes) < 18, "log-uniform: median near sqrt(4 * 40) = 12.6 mm"


def test_mass_size_is_physical_whatever_the_pixel_size():
    for key in range(4):
        fine = _diameter_mm(draw_realistic_mass(False, 2, 0.05, *_rngs(key)).mask, 0.05)
        coarse = _diameter_mm(draw_realistic_mass(False, 2, 0.375, *_rngs(key)).mask, 0.375)
        assert abs(fine - coarse) <= 0.05 * fine + 0.375, (fine, coarse)


@pytest.mark.parametrize("malignant", [True, False])
def test_calcification_specks_are_sub_millimetre_and_spread_over_a_cluster(malignant):
    spacing = 0.01  # 10 um pixels: each speck is measured on dozens of pixels
    for key in range(3):
        patch = draw_realistic_cluster(malignant, 2, spacing, *_rngs(key))
        n, _, stats, _ = cv2.connectedComponentsWithStats((patch.signal > 0.05 * patch.signal.max()).astype(np.uint8))
        long_side = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]) * spacing
        assert n - 1 >= 4, "a cluster has several specks"
        assert long_side.min() >= SPECK_LENGTH_MM[0] * 0.8 and long_side.max() <= SPECK_LENGTH_MM[1] + 0.1, long_side
        if malignant:
            assert np.median(long_side) < 0.35, "malignant specks are fine"
        ys, xs = np.nonzero(patch.mask)
        extent = max(np.ptp(ys), np.ptp(xs)) * spacing
        assert extent >= 0.5 * CLUSTER_DIAMETER_MM[0], "specks spread over a cluster region several mm wide"


def test_sub_pixel_specks_keep_their_signal_as_partial_volume():
    for key in range(3):
        full = draw_realistic_cluster(True, 2, 0.05, *_rngs(key))
        demo = draw_realistic_cluster(True, 2, 0.375, *_rngs(key))
        assert demo.signal.sum() * 0.375**2 == pytest.approx(full.signal.sum() * 0.05**2, rel=0.03)
        assert demo.signal.max() < 0.6 * full.signal.max(), "a speck smaller than a pixel is fainter there"


def test_denser_breasts_give_lower_contrast():
    for key in range(3):
        for draw in (draw_realistic_mass, draw_realistic_cluster):
            peaks = [draw(False, density, 0.1, *_rngs(key)).signal.max() for density in (1, 2, 3, 4)]
            assert all(a > b for a, b in zip(peaks[:-1], peaks[1:], strict=True)), (draw.__name__, peaks)
    # on the rendered film, against the texture around the mass (which grows with density)
    for key in range(4):
        cnr = []
        for density in (1, 2, 3, 4):
            les = Lesion(key, "mass", "P_00001", "train", "LEFT", ("CC",))
            film = Film(key, "P_00001", "LEFT", "CC", density, 640, 400, 16, [les])
            out = render_film(film, 0, lesion_drawer=RealisticLesions(0.375))
            img = out.pixels.astype(np.float32)
            mask = out.lesions[key].full_mask(640, 400) > 0
            ring = (cv2.dilate(mask.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0) & ~mask & out.breast
            cnr.append((img[mask].mean() - img[ring].mean()) / img[ring].std())
        assert all(a > b for a, b in zip(cnr[:-1], cnr[1:], strict=True)), cnr


def test_realistic_collection_records_the_option_and_the_spacing(tmp_path):
    coll = make_synthetic_cbis(tmp_path / "r", cases=MIN_CASES, seed=1, image_size=(480, 300), realistic_lesions=True)
    spacing = pixel_spacing_mm(300)
    with open(coll.manifest_path) as f:
        params = json.load(f)["params"]
    assert params["realistic_lesions"] is True and params["pixel_spacing_mm"] == spacing == 0.5
    sizes = {"mass": [], "calcification": []}
    for row in coll.rows:
        for path in (row.full_image, row.mask, row.crop):
            assert [float(v) for v in pydicom.dcmread(path, stop_before_pixels=True).PixelSpacing] == [spacing] * 2
        if not row.mask_wrong_size:
            sizes[row.abnormality_type].append(_diameter_mm(pydicom.dcmread(row.mask).pixel_array, spacing))
    lo, hi = MASS_DIAMETER_MM
    assert sizes["mass"] and all(lo * 0.95 - spacing <= d <= hi * 1.05 + spacing for d in sizes["mass"]), sizes
    assert sizes["calcification"] and min(sizes["calcification"]) >= 2.0, "a cluster's outline spans millimetres"


def test_default_output_is_unchanged(tmp_path):
    # the pixels and masks of the default drawing, as before the realistic option existed; a new numpy or OpenCV
    # may change them legitimately: then check the images by eye and update the digest
    plan = make_plan(8, 0, (256, 160))
    digest = hashlib.sha256()
    for film in plan.films[:6]:
        out = render_film(film, 0)
        digest.update(out.pixels.tobytes())
        for key in sorted(out.lesions):
            digest.update(out.lesions[key].mask.tobytes())
    assert digest.hexdigest() == "5a5d30171ba0d57ebe7815c8ab62d257bad8b81aeff3ac16ecc81df0a79fa295"
    coll = make_synthetic_cbis(tmp_path / "d", cases=MIN_CASES, seed=1, image_size=(256, 160))
    assert "PixelSpacing" not in pydicom.dcmread(coll.rows[0].full_image, stop_before_pixels=True)
    with open(coll.manifest_path) as f:
        params = json.load(f)["params"]
    assert params["realistic_lesions"] is False and params["pixel_spacing_mm"] is None


def test_bad_option_and_cli_flag(tmp_path, capsys):
    with pytest.raises(ValueError, match="realistic_lesions must be True or False"):
        make_synthetic_cbis(tmp_path / "x", cases=MIN_CASES, realistic_lesions="yes")
    assert cli_main(["synth", str(tmp_path / "c"), "--cases", "8", "--realistic-lesions"]) == 0
    with open(tmp_path / "c" / "synthetic_manifest.json") as f:
        assert json.load(f)["params"]["realistic_lesions"] is True
