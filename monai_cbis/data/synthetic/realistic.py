"""Realistic lesions in millimetres: what ``make_synthetic_cbis(realistic_lesions=True)`` draws instead of the demo's.

The demo's lesions are sized in pixels (about 6 to 13 % of the film's width), so they stay visible at 640 x 400. Here
they are sized on the film, in millimetres, as in CBIS-DDSM, and their contrast falls with breast density:

* **Scale.** A full-size film (:data:`~monai_cbis.data.synthetic.FULL_IMAGE_SIZE`, 5000 x 3000) has
  :data:`FULL_SIZE_SPACING_MM` (50 um) pixels, about what DDSM's scanners wrote; a smaller ``image_size`` is the same
  film scanned coarser: :func:`pixel_spacing_mm` = 0.05 mm x 3000 / columns (0.375 mm at the demo's 640 x 400). The
  DICOM files carry it as ``PixelSpacing`` and the manifest as ``params.pixel_spacing_mm``.
* **Masses**: the ROI mask's equivalent-circle diameter (the diameter of a disk of the same area) is drawn
  log-uniformly from 4 to 40 mm (:data:`MASS_DIAMETER_MM`; median about 12.6 mm), then varied by up to 10 % between
  the CC and MLO views and kept in that range. The mask comes out within about 5 % and one pixel of it (a malignant
  outline's lobes add area). A mass that does not fit in the breast is drawn smaller (0.8 times per try, never below
  4 mm). Spicules (malignant) extend beyond the mask, as in :func:`~.drawing.draw_mass`.
* **Calcification clusters**: specks of :data:`SPECK_LENGTH_MM` (0.1 to 0.5 mm along their long axis) spread over a
  cluster region of :data:`CLUSTER_DIAMETER_MM` (5 to 25 mm, log-uniform). MALIGNANT: 10 to 40 fine specks (0.1 to
  0.3 mm, elongated; three in ten linear, 0.3 to 0.5 mm) packed in an elongated region, at least 0.6 mm apart;
  benign: 5 to 15 round specks of 0.25 to 0.5 mm (some with a lucent centre) scattered over a round region, at least
  1.5 mm apart ("up to": specks that do not fit are left out). Specks are drawn on a grid of at most 10 um and
  averaged onto the film's pixels (partial volume), then blurred by half a pixel (the scanner), so a speck smaller
  than a pixel raises one pixel by its share of that pixel's area. The mask is the specks' convex hull widened by
  :data:`CLUSTER_MARGIN_MM` (1 mm), as a reader outlines a cluster.
* **Contrast** against the tissue around the lesion falls with breast density (:data:`MASS_CONTRAST`,
  :data:`SPECK_CONTRAST`, each varied by +-15 % per lesion), while the tissue texture grows with it: in a dense
  breast (density 3-4) a mass is about as bright as the texture's own swings. Density 0 (a CBIS-DDSM recording quirk)
  is drawn as density 2.

**At the demo's reduced size** (0.375 mm pixels) a 4 mm mass is about 11 pixels across, and a speck is a fraction
of one pixel: a 0.2 mm speck raises its brightest pixel by 5 to 15 % of its contrast (depending on where it falls on
the pixel grid), a 0.5 mm one by 30 to 65 %. Fine (malignant) specks sink below the tissue texture and the film's
noise, coarse benign ones stay faint dots; the masks stay where the clusters are. That is the point of the option: the
small-lesion loss that a reduced resolution brings. At full size (50 um) a 0.1 mm speck is two pixels across.

Example:
    >>> from monai_cbis.data.synthetic.model import Lesion
    >>> import numpy as np
    >>> draw = RealisticLesions(spacing_mm=0.05)
    >>> mass = Lesion(0, "mass", "P_00001", "train", "LEFT", ("CC",))
    >>> patch = draw(mass, 1, np.random.default_rng(0), np.random.default_rng(1))
    >>> bool(4.0 <= 2 * np.sqrt(patch.mask.sum() / np.pi) * 0.05 <= 42.0)  # the mask's diameter, in mm
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .drawing import LesionPatch, _fixed, _spaced, draw_mass
from .model import Lesion

__all__ = [
    "FULL_SIZE_SPACING_MM",
    "MASS_DIAMETER_MM",
    "SPECK_LENGTH_MM",
    "CLUSTER_DIAMETER_MM",
    "CLUSTER_MARGIN_MM",
    "MASS_CONTRAST",
    "SPECK_CONTRAST",
    "pixel_spacing_mm",
    "RealisticLesions",
    "draw_realistic_mass",
    "draw_realistic_cluster",
]

FULL_SIZE_SPACING_MM = 0.05
MASS_DIAMETER_MM = (4.0, 40.0)
SPECK_LENGTH_MM = (0.1, 0.5)
CLUSTER_DIAMETER_MM = (5.0, 25.0)
CLUSTER_MARGIN_MM = 1.0
MASS_CONTRAST = {1: 0.10, 2: 0.075, 3: 0.05, 4: 0.035}  # by BI-RADS breast density
SPECK_CONTRAST = {1: 0.40, 2: 0.34, 3: 0.28, 4: 0.22}  # a speck covering whole pixels
_SUPERSAMPLED_MM = 0.01  # the finest grid specks are drawn on
_TWO_PI = 2.0 * math.pi


def pixel_spacing_mm(columns: int) -> float:
    """The pixel size of a film of base width ``columns``: 0.05 mm at 3000 columns, proportionally coarser below.

    Example:
        >>> pixel_spacing_mm(400)
        0.375
    """
    return round(FULL_SIZE_SPACING_MM * 3000 / columns, 6)


def _contrast(table: dict[int, float], density: int, rng: np.random.Generator) -> float:
    return table.get(density, table[2]) * rng.uniform(0.85, 1.15)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def draw_realistic_mass(
    malignant: bool, density: int, spacing_mm: float, shape_rng, view_rng, shrink: float = 1.0
) -> LesionPatch:
    """One mass of :data:`MASS_DIAMETER_MM` (see the module) at ``spacing_mm`` per pixel; rngs as :func:`draw_mass`."""
    lo, hi = MASS_DIAMETER_MM
    diameter = _log_uniform(shape_rng, lo, hi)
    contrast = _contrast(MASS_CONTRAST, density, shape_rng)
    diameter = float(np.clip(diameter * view_rng.uniform(0.9, 1.1), lo, hi))
    diameter = max(lo, diameter * shrink)
    return draw_mass(malignant, 1.0, shape_rng, view_rng, diameter=diameter / spacing_mm, amplitude=contrast)


def draw_realistic_cluster(
    malignant: bool, density: int, spacing_mm: float, shape_rng, view_rng, shrink: float = 1.0
) -> LesionPatch:
    """One calcification cluster (see the module) at ``spacing_mm`` per pixel; rngs as :func:`draw_mass`."""
    radius = _log_uniform(shape_rng, *CLUSTER_DIAMETER_MM) / 2.0  # mm, as everything below until the grid
    if malignant:  # many fine, elongated specks packed in an elongated region

        def sample(k: int) -> np.ndarray:
            return shape_rng.standard_normal((k, 2)) * np.array([0.5, 0.3]) * radius

        pos = _spaced(sample, int(shape_rng.integers(10, 41)), 0.6, radius)
        n = len(pos)
        linear = shape_rng.random(n) < 0.3
        length = np.where(linear, shape_rng.uniform(0.3, 0.5, n), shape_rng.uniform(0.1, 0.3, n))
        width = np.maximum(
            length * np.where(linear, shape_rng.uniform(0.15, 0.3, n), shape_rng.uniform(0.4, 1.0, n)), 0.05
        )
        lucent = np.zeros(n, dtype=bool)
    else:  # fewer, coarser round specks, some with a lucent centre, scattered over a round region

        def sample(k: int) -> np.ndarray:
            rr, ang = radius * np.sqrt(shape_rng.random(k)), shape_rng.uniform(0.0, _TWO_PI, k)
            return np.stack([rr * np.cos(ang), rr * np.sin(ang)], axis=1)

        pos = _spaced(sample, int(shape_rng.integers(5, 16)), 1.5, radius)
        n = len(pos)
        length = shape_rng.uniform(0.25, 0.5, n)
        width = length * shape_rng.uniform(0.85, 1.0, n)
        lucent = shape_rng.random(n) < 0.35
    angle = shape_rng.uniform(0.0, 180.0, n)
    contrast = _contrast(SPECK_CONTRAST, density, shape_rng)
    rot, zoom = view_rng.uniform(0.0, _TWO_PI), view_rng.uniform(0.9, 1.1) * shrink
    c, s = math.cos(rot), math.sin(rot)
    pos = pos @ np.array([[c, s], [-s, c]]) * zoom  # the region turns and scales between views; specks keep size
    angle = angle + math.degrees(rot)

    margin = max(1, int(round(CLUSTER_MARGIN_MM / spacing_mm)))
    extent = float((np.hypot(pos[:, 0], pos[:, 1]).max() + length.max()) / spacing_mm + margin + 3)
    half = int(math.ceil(extent))
    size = 2 * half + 1
    f = max(1, int(math.ceil(spacing_mm / _SUPERSAMPLED_MM - 1e-9)))  # grid cells per film pixel
    fine = spacing_mm / f
    centre = (half + 0.5) * f - 0.5  # the patch's centre in grid cells
    layer = np.zeros((size * f, size * f), dtype=np.uint8)
    for (x, y), le, wi, an, luc in zip(pos / fine, length / fine, width / fine, angle, lucent, strict=True):
        at = _fixed(centre + x, centre + y)
        cv2.ellipse(layer, at, _fixed(max(le / 2, 0.5), max(wi / 2, 0.5)), float(an), 0, 360, 255, -1, cv2.LINE_AA, 4)
        if luc:
            inner = _fixed(max(0.22 * le, 0.5), max(0.22 * wi, 0.5))
            cv2.ellipse(layer, at, inner, float(an), 0, 360, 110, -1, cv2.LINE_AA, 4)
    covered = layer.reshape(size, f, size, f).astype(np.float32).mean(axis=(1, 3)) / 255.0  # partial volume
    signal = cv2.GaussianBlur(covered, (0, 0), 0.5) * np.float32(contrast)
    hull = cv2.convexHull(cv2.findNonZero((covered > 0).astype(np.uint8)))
    inside = np.zeros((size, size), dtype=np.uint8)
    cv2.fillConvexPoly(inside, hull, 1)
    mask = (cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5) <= margin).astype(np.uint8)
    return LesionPatch(signal.astype(np.float32), mask, extent)


@dataclass(frozen=True)
class RealisticLesions:
    """The ``lesion_drawer`` of :func:`~.drawing.render_film` for films of ``spacing_mm`` pixels (see the module)."""

    spacing_mm: float

    def __call__(self, lesion: Lesion, density: int, shape_rng, view_rng, shrink: float = 1.0) -> LesionPatch:
        draw = draw_realistic_mass if lesion.abn_type == "mass" else draw_realistic_cluster
        return draw(lesion.malignant, density, self.spacing_mm, shape_rng, view_rng, shrink)
