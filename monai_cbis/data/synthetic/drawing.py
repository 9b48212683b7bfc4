"""Pixels of the synthetic mammograms: breast, tissue texture, film border, scanner label, masses, calcifications.

Orientation convention: the chest wall lies along the image edge on the breast's own side. A LEFT breast has its
chest wall along column 0 and the nipple pointing right; a RIGHT breast is the mirror image. CC and MLO follow the
same rule; MLO adds the pectoral muscle as a bright triangle in the upper chest-wall corner.

Intensities are drawn in ``[0, 1]`` (background about 0.04, fatty tissue about 0.2 to 0.35, denser tissue brighter,
masses +0.15 to +0.22, calcification specks +0.30 to +0.42, border and label about 0.9) and quantised to 12 bits
(values < 4096) or 16 bits (values < 65536), as the film says. What tells pathology apart, by design:

* masses: BENIGN/BENIGN_WITHOUT_CALLBACK are smooth ovals with a sharp (circumscribed) edge; MALIGNANT are
  irregular (harmonic boundary) with a fuzzy edge and 8 to 16 spicules radiating out;
* calcification clusters: MALIGNANT has up to 18 to 40 fine, elongated, pleomorphic specks packed in an elongated
  cluster (at least 3.2 px apart at the default size); benign has up to 4 to 10 larger, round specks (some with
  lucent centres), loosely scattered (at least 9 px apart). "Up to": specks that do not fit are left out.

The ROI mask is the mass body, or for a cluster the dilated convex hull of its specks.

Example:
    >>> from monai_cbis.data.synthetic.plan import make_plan
    >>> film = make_plan(8, 0).films[0]
    >>> out = render_film(film, seed=0)
    >>> out.pixels.shape == (film.rows, film.cols), out.pixels.dtype.name
    (True, 'uint16')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .model import Film, Lesion

__all__ = ["LesionPatch", "PlacedLesion", "RenderedFilm", "draw_mass", "draw_calc_cluster", "render_film"]

_TWO_PI = 2.0 * math.pi
_DENSITY_AMPLITUDE = {0: 0.07, 1: 0.04, 2: 0.07, 3: 0.10, 4: 0.13}


@dataclass(frozen=True)
class LesionPatch:
    """A lesion drawn around the centre of a square patch.

    Attributes:
        signal: float32 intensity to add to the film.
        mask: uint8 ``{0, 1}`` ROI mask, same shape.
        extent: radius around the patch centre that holds every drawn pixel (used for placement).
    """

    signal: np.ndarray
    mask: np.ndarray
    extent: float


@dataclass(frozen=True)
class PlacedLesion:
    """A lesion on a film: its mask patch, where it sits, and the crop box cut around it (``y0, y1, x0, x1``)."""

    key: int
    top: int
    left: int
    mask: np.ndarray
    crop_box: tuple[int, int, int, int]

    def full_mask(self, rows: int, cols: int) -> np.ndarray:
        """The binary ``0/255`` uint8 mask at the film's full size."""
        out = np.zeros((rows, cols), dtype=np.uint8)
        h, w = self.mask.shape
        out[self.top : self.top + h, self.left : self.left + w] = self.mask * np.uint8(255)
        return out


@dataclass(frozen=True)
class RenderedFilm:
    """``pixels``: uint16 image; ``breast``: bool tissue region; ``lesions``: lesion key -> placement."""

    pixels: np.ndarray
    breast: np.ndarray
    lesions: dict[int, PlacedLesion]


@dataclass(frozen=True)
class _Breast:
    rows: int
    cols: int
    left: bool  # chest wall along column 0
    cy: float
    ry: float
    rx: float
    pect_h: float  # pectoral triangle legs (0 for CC)
    pect_w: float

    def column(self, d: float) -> float:
        """Image column at distance ``d`` from the chest wall."""
        return d if self.left else self.cols - 1 - d


def _fixed(x: float, y: float) -> tuple[int, int]:
    return int(round(x * 16)), int(round(y * 16))


def draw_mass(malignant: bool, scale: float, shape_rng, view_rng, diameter: float = 0.0, amplitude: float = 0.0):
    """Draw one mass; ``shape_rng`` fixes the lesion (same in CC and MLO), ``view_rng`` its rotation and size there.

    ``diameter`` (pixels, equivalent-circle) and ``amplitude``, when positive, replace the drawn size and brightness.

    Returns:
        LesionPatch: smooth oval (benign) or irregular spiculated body (malignant).
    """
    r0 = shape_rng.uniform(12.0, 26.0) * scale
    aspect = shape_rng.uniform(0.75, 1.0) if malignant else shape_rng.uniform(0.6, 0.95)
    k = np.arange(3, 10, dtype=np.float64)
    coef = shape_rng.uniform(0.04, 0.12, k.size) if malignant else np.zeros(k.size)
    phase = shape_rng.uniform(0.0, _TWO_PI, k.size)
    n_spicules = int(shape_rng.integers(8, 17))
    sp_angle = shape_rng.uniform(0.0, _TWO_PI, n_spicules)
    sp_length = shape_rng.uniform(0.5, 1.4, n_spicules)
    amp = shape_rng.uniform(0.15, 0.22)
    rot = view_rng.uniform(0.0, _TWO_PI)
    r0 *= view_rng.uniform(0.9, 1.1)
    r0, amp = (diameter / (2.0 * math.sqrt(aspect)) if diameter > 0 else r0), (amplitude if amplitude > 0 else amp)

    phi = np.linspace(0.0, _TWO_PI, 256, endpoint=False)
    a, b = r0, r0 * aspect
    rad = a * b / np.sqrt((b * np.cos(phi)) ** 2 + (a * np.sin(phi)) ** 2)
    rad = rad * (1.0 + (coef[:, None] * np.cos(k[:, None] * phi + phase[:, None])).sum(0))
    sigma = max(0.6, (0.10 if malignant else 0.03) * r0)
    extent = float(rad.max() + (sp_length.max() * r0 if malignant else 0.0) + 3 * sigma + 2)
    half = int(math.ceil(extent))
    size = 2 * half + 1
    pts = np.stack([half + rad * np.cos(phi + rot), half + rad * np.sin(phi + rot)], axis=1)
    body = np.zeros((size, size), dtype=np.uint8)
    cv2.fillPoly(body, [np.round(pts * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    dist = cv2.distanceTransform(body, cv2.DIST_L2, 5)
    dome = body * (0.7 + 0.3 * np.sqrt(dist / max(float(dist.max()), 1.0)))
    signal = cv2.GaussianBlur(dome.astype(np.float32), (0, 0), sigma)
    if malignant:
        layer = np.zeros((size, size), dtype=np.uint8)
        thick = max(1, int(round(0.06 * r0)))
        for ang, length in zip(sp_angle, sp_length, strict=True):
            r_at = float(np.interp(ang, phi, rad, period=_TWO_PI))
            c, s = math.cos(ang + rot), math.sin(ang + rot)
            p0 = _fixed(half + 0.8 * r_at * c, half + 0.8 * r_at * s)
            p1 = _fixed(half + (r_at + length * r0) * c, half + (r_at + length * r0) * s)
            cv2.line(layer, p0, p1, 255, thickness=thick, lineType=cv2.LINE_AA, shift=4)
        spicules = cv2.GaussianBlur(layer.astype(np.float32) / 255.0, (0, 0), max(0.5, 0.4 * thick))
        signal = np.minimum(signal + 0.6 * spicules, 1.0)
    return LesionPatch((signal * amp).astype(np.float32), body, extent)


def draw_calc_cluster(malignant: bool, scale: float, shape_rng: np.random.Generator, view_rng: np.random.Generator):
    """Draw one calcification cluster (arguments as :func:`draw_mass`).

    Returns:
        LesionPatch: bright specks; the mask is the dilated convex hull of the specks.
    """
    radius = shape_rng.uniform(12.0, 22.0) * scale
    if malignant:  # many fine, elongated, varied specks packed in an elongated cluster

        def sample(k: int) -> np.ndarray:
            return shape_rng.standard_normal((k, 2)) * np.array([0.5, 0.35]) * radius

        pos = _spaced(sample, int(shape_rng.integers(18, 41)), 3.2 * scale, radius)
        n = len(pos)
        axis = shape_rng.uniform(0.6, 1.4, n) * scale
        ratio = shape_rng.uniform(0.3, 1.0, n)
        linear = shape_rng.random(n) < 0.3
        axis, ratio = np.where(linear, axis * 1.8, axis), np.where(linear, ratio * 0.4, ratio)
        lucent = np.zeros(n, dtype=bool)
    else:  # fewer, larger, round specks (some with a lucent centre), loosely scattered

        def sample(k: int) -> np.ndarray:
            rr, ang = radius * np.sqrt(shape_rng.random(k)), shape_rng.uniform(0.0, _TWO_PI, k)
            return np.stack([rr * np.cos(ang), rr * np.sin(ang)], axis=1)

        pos = _spaced(sample, int(shape_rng.integers(4, 11)), 9.0 * scale, radius)
        n = len(pos)
        axis = shape_rng.uniform(2.0, 3.4, n) * scale
        ratio = shape_rng.uniform(0.85, 1.0, n)
        lucent = shape_rng.random(n) < 0.35
    speck_angle = shape_rng.uniform(0.0, 180.0, n)
    amp = shape_rng.uniform(0.30, 0.42)
    rot = view_rng.uniform(0.0, _TWO_PI)
    zoom = view_rng.uniform(0.9, 1.1)
    c, s = math.cos(rot), math.sin(rot)
    pos = pos @ np.array([[c, s], [-s, c]]) * zoom
    axis = axis * zoom
    speck_angle = speck_angle + math.degrees(rot)

    dilation = max(2, int(round(0.3 * radius)))
    extent = float(np.hypot(pos[:, 0], pos[:, 1]).max() + axis.max() + dilation + 3)
    half = int(math.ceil(extent))
    size = 2 * half + 1
    layer = np.zeros((size, size), dtype=np.uint8)
    for (x, y), ax, rt, an, luc in zip(pos, axis, ratio, speck_angle, lucent, strict=True):
        centre = _fixed(half + x, half + y)
        axes = _fixed(max(ax, 0.5), max(ax * rt, 0.5))
        cv2.ellipse(layer, centre, axes, float(an), 0, 360, 255, -1, cv2.LINE_AA, 4)
        if luc:
            inner = _fixed(max(0.45 * ax, 0.5), max(0.45 * ax * rt, 0.5))
            cv2.ellipse(layer, centre, inner, float(an), 0, 360, 110, -1, cv2.LINE_AA, 4)
    signal = cv2.GaussianBlur(layer.astype(np.float32) / 255.0, (0, 0), max(0.35, 0.3 * scale)) * amp
    hull = cv2.convexHull(cv2.findNonZero((layer > 0).astype(np.uint8)))
    mask = np.zeros((size, size), dtype=np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilation + 1, 2 * dilation + 1)))
    return LesionPatch(signal.astype(np.float32), mask, extent)


def _spaced(sample, n: int, spacing: float, radius: float) -> np.ndarray:
    """Up to ``n`` points from ``sample(k)`` (a ``(k, 2)`` array), within ``radius`` of 0 and ``spacing`` apart."""
    points: list[np.ndarray] = []
    for _ in range(20):
        for p in sample(4 * n):
            if len(points) == n:
                return np.array(points)
            if np.hypot(p[0], p[1]) > radius:
                continue
            if points and np.hypot(*(np.asarray(points) - p).T).min() < spacing:
                continue
            points.append(p)
    return np.array(points) if points else np.zeros((1, 2))


def _smooth_noise(rng: np.random.Generator, rows: int, cols: int, cell: float) -> np.ndarray:
    """Unit-variance noise that varies over about ``cell`` pixels (cubic upsampling of a coarse grid)."""
    h, w = max(2, int(math.ceil(rows / cell)) + 1), max(2, int(math.ceil(cols / cell)) + 1)
    big = cv2.resize(rng.standard_normal((h, w)).astype(np.float32), (cols, rows), interpolation=cv2.INTER_CUBIC)
    big -= big.mean()
    big /= big.std() + 1e-6
    return big


def _geometry(film: Film, rng: np.random.Generator) -> _Breast:
    rows, cols = film.rows, film.cols
    mlo = film.view == "MLO"
    cy = rows * (rng.uniform(0.5, 0.56) if mlo else rng.uniform(0.46, 0.54))
    ry = rows * (rng.uniform(0.46, 0.52) if mlo else rng.uniform(0.38, 0.44))
    rx = cols * rng.uniform(0.62, 0.78)
    ph, pw = (rows * rng.uniform(0.3, 0.45), cols * rng.uniform(0.18, 0.3)) if mlo else (0.0, 0.0)
    return _Breast(rows, cols, film.side == "LEFT", cy, ry, rx, ph, pw)


def _tissue(g: _Breast, density: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Background + breast tissue, and the breast region."""
    yy = np.arange(g.rows, dtype=np.float32)[:, None]
    dd = np.arange(g.cols, dtype=np.float32)[None, :]
    if not g.left:
        dd = dd[:, ::-1].copy()
    e = (dd / np.float32(g.rx)) ** 2 + ((yy - np.float32(g.cy)) / np.float32(g.ry)) ** 2
    breast = e <= 1.0
    t = np.sqrt(np.clip(1.0 - e, 0.0, 1.0))
    texture = 0.6 * _smooth_noise(rng, g.rows, g.cols, g.cols / 6.0)
    texture += 0.4 * _smooth_noise(rng, g.rows, g.cols, g.cols / 18.0)
    img = 0.20 + 0.14 * np.sqrt(t) + np.float32(_DENSITY_AMPLITUDE[density]) * texture * t
    if g.pect_h > 0:
        pect = (dd / np.float32(g.pect_w) + yy / np.float32(g.pect_h)) <= 1.0
        np.copyto(img, np.maximum(img, 0.40 + 0.02 * texture), where=pect)
        breast |= pect
    img = np.where(breast, img, np.float32(0.04)).astype(np.float32)
    return img, breast


def _place(g: _Breast, extent: float, placed: list[tuple[float, float, float]], rng: np.random.Generator):
    """A lesion centre ``(y, x)`` whose disk of radius ``extent`` lies in the breast, off the pectoral muscle, the
    image edges and the other lesions; None after 400 tries."""
    d_lo, d_hi = extent + 0.03 * g.cols, g.rx - extent
    y_lo = max(g.cy - g.ry + extent, extent + 0.03 * g.rows)
    y_hi = min(g.cy + g.ry - extent, g.rows - 1 - extent - 0.03 * g.rows)
    if d_hi <= d_lo or y_hi <= y_lo:
        return None
    for _ in range(400):
        d, y = rng.uniform(d_lo, d_hi), rng.uniform(y_lo, y_hi)
        if (d / (g.rx - extent)) ** 2 + ((y - g.cy) / (g.ry - extent)) ** 2 > 1.0:
            continue
        if g.pect_h > 0:
            norm = math.hypot(1.0 / g.pect_w, 1.0 / g.pect_h)
            if (d / g.pect_w + y / g.pect_h - 1.0) / norm <= extent:
                continue
        x = g.column(d)
        if any(math.hypot(y - py, x - px) < extent + pe + 2 for py, px, pe in placed):
            continue
        return y, x
    return None


def _add_lesion(
    img, breast, g: _Breast, lesion: Lesion, seed: int, placed, rng, malignant_signal=1.0, drawer=None, density=0
) -> PlacedLesion:
    scale = g.cols / 400.0
    gain = np.float32(malignant_signal if lesion.malignant else 1.0)
    draw = draw_mass if lesion.abn_type == "mass" else draw_calc_cluster
    for attempt in range(6):
        shape_rng = np.random.default_rng([seed, 2, lesion.key])
        patch = draw(lesion.malignant, scale, shape_rng, rng) if drawer is None else drawer(
            lesion, density, shape_rng, rng, 0.8**attempt)  # fmt: skip
        half = patch.mask.shape[0] // 2
        for _try in range(20):
            centre = _place(g, patch.extent, placed, rng)
            if centre is None:
                break
            cy, cx = int(round(centre[0])), int(round(centre[1]))
            top, left = cy - half, cx - half
            size = patch.mask.shape[0]
            if top < 0 or left < 0 or top + size > g.rows or left + size > g.cols:
                continue
            if not breast[top : top + size, left : left + size][patch.mask > 0].all():
                continue
            img[top : top + size, left : left + size] += patch.signal * gain
            placed.append((centre[0], centre[1], patch.extent))
            ys, xs = np.nonzero(patch.mask)
            y0, y1, x0, x1 = top + ys.min(), top + ys.max() + 1, left + xs.min(), left + xs.max() + 1
            margin = max(4, int(round(0.35 * max(y1 - y0, x1 - x0))))
            box = (max(0, y0 - margin), min(g.rows, y1 + margin), max(0, x0 - margin), min(g.cols, x1 + margin))
            return PlacedLesion(lesion.key, top, left, patch.mask, tuple(int(v) for v in box))
        scale *= 0.8  # no room: draw it smaller
    raise RuntimeError(
        f"Could not place lesion {lesion.pid} {lesion.side} {lesion.abn_type} #{lesion.abn_id} inside a "
        f"{g.rows}x{g.cols} breast; use a larger image_size."
    )


def _border_and_label(img: np.ndarray, breast: np.ndarray, g: _Breast, rng: np.random.Generator) -> None:
    rows, cols = g.rows, g.cols
    # scanner label: a bright rectangle with dark "characters", in the background away from the chest wall
    lh, lw = max(4, int(rows * rng.uniform(0.045, 0.07))), max(8, int(cols * rng.uniform(0.14, 0.22)))
    for at_top in [True, False] if rng.random() < 0.5 else [False, True]:
        off = int(rows * rng.uniform(0.03, 0.06))
        y0 = off if at_top else rows - off - lh
        ys = np.arange(y0, y0 + lh, dtype=np.float64)
        ext = g.rx * np.sqrt(np.clip(1.0 - ((ys - g.cy) / g.ry) ** 2, 0.0, 1.0)).max()
        if g.pect_h > 0:
            ext = max(ext, g.pect_w * (1.0 - y0 / g.pect_h))
        d_lo, d_hi = ext + 0.04 * cols, cols - 0.05 * cols - lw
        if d_hi < d_lo:
            continue
        d0 = rng.uniform(d_lo, d_hi)
        x0 = int(d0) if g.left else int(cols - d0 - lw)
        if breast[y0 : y0 + lh, x0 : x0 + lw].any():
            continue
        img[y0 : y0 + lh, x0 : x0 + lw] = rng.uniform(0.88, 0.95)
        n = int(rng.integers(5, 10))
        gw = max(1, lw // (2 * n + 2))
        for i in range(n):
            gx = x0 + int((i + 1) * lw / (n + 1.5))
            gh = int(lh * rng.uniform(0.35, 0.6))
            img[y0 + (lh - gh) // 2 : y0 + (lh - gh) // 2 + gh, gx : gx + gw] = 0.35
        break
    # film border: a bright band along some of the top, bottom and far edges
    for edge in ("top", "bottom", "far"):
        if rng.random() >= 0.35:
            continue
        width = max(2, int((rows if edge != "far" else cols) * rng.uniform(0.005, 0.02)))
        value = rng.uniform(0.86, 0.95)
        if edge == "top":
            img[:width] = value
        elif edge == "bottom":
            img[-width:] = value
        elif g.left:
            img[:, -width:] = value
        else:
            img[:, :width] = value


def render_film(film: Film, seed: int, malignant_signal: float = 1.0, lesion_drawer=None) -> RenderedFilm:
    """Render one film with all its lesions (of both types) and quantise it to the film's bit depth.

    Deterministic in ``(seed, film.index)`` and the lesion keys, whatever order films are rendered in.
    ``malignant_signal`` multiplies the intensity that MALIGNANT lesions add (1: as drawn; -1: dark lesions, an
    easy pathology cue, see :func:`~monai_cbis.data.synthetic.make_synthetic_cbis`). ``lesion_drawer`` replaces
    :func:`draw_mass` and :func:`draw_calc_cluster`: called as ``(lesion, density, shape_rng, view_rng, shrink)``
    (``shrink`` is 1, then 0.8, 0.64, ... when the lesion did not fit), e.g. :class:`.realistic.RealisticLesions`.
    """
    rng = np.random.default_rng([seed, 1, film.index])
    g = _geometry(film, rng)
    img, breast = _tissue(g, film.density, rng)
    placed: list[tuple[float, float, float]] = []
    lesions = {
        les.key: _add_lesion(img, breast, g, les, seed, placed, rng, malignant_signal, lesion_drawer, film.density)
        for les in film.lesions
    }
    _border_and_label(img, breast, g, rng)
    img += rng.standard_normal(img.shape, dtype=np.float32) * np.float32(0.006)
    np.clip(img, 0.0, 1.0, out=img)
    top = 4095.0 if film.bits_stored == 12 else 65535.0
    img *= np.float32(top)
    img += np.float32(0.5)
    return RenderedFilm(img.astype(np.uint16), breast, lesions)
