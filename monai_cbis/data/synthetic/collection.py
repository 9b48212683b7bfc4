"""``make_synthetic_cbis``: write a small CBIS-DDSM collection in the real formats, and describe what it wrote.

Example:
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> coll = make_synthetic_cbis(tmp.name, layout="classic", cases=8, seed=0)
    >>> coll.rows[0].csv_name, coll.rows[0].abnormality_type
    ('mass_case_description_train_set.csv', 'mass')
    >>> tmp.cleanup()
"""

from __future__ import annotations

import json
import numbers
import os
from collections import defaultdict
from dataclasses import asdict, dataclass

import numpy as np

from .drawing import render_film
from .encode import DicomHeader, dicom_bytes, jpeg_bytes
from .model import FileSpec, Plan
from .plan import MAX_CASES, MIN_CASES, make_plan
from .realistic import RealisticLesions, pixel_spacing_mm
from .vocabulary import CSV_NAMES
from .writers import (
    IN_PROGRESS_NAME,
    LAYOUTS,
    MANIFEST_NAME,
    atomic_write,
    case_csv_bytes,
    dicom_info_csv_bytes,
    kaggle_name,
    metadata_csv_bytes,
    prepare_out_dir,
    relative_path,
)

__all__ = [
    "SyntheticRow",
    "SyntheticCollection",
    "make_synthetic_cbis",
    "load_synthetic_collection",
    "DEFAULT_IMAGE_SIZE",
    "FULL_IMAGE_SIZE",
    "MIN_IMAGE_SIZE",
]

DEFAULT_IMAGE_SIZE = (640, 400)  # rows, columns: small, for CPU demos
FULL_IMAGE_SIZE = (5000, 3000)  # about a real scanned film at 50 um
MIN_IMAGE_SIZE = (256, 160)
_MAX_IMAGE_SIDE = 20000
_GENERATOR = "monai_cbis.data.synthetic"
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class SyntheticRow:
    """The truth about one case-CSV row of a synthetic collection.

    Attributes:
        csv_name: e.g. ``"mass_case_description_train_set.csv"``.
        patient_id: the woman, ``P_xxxxx``.
        abnormality_type: ``"mass"`` or ``"calcification"``.
        abnormality_id: the CSV's ``abnormality id`` (same for the CC and MLO rows of one lesion).
        split: ``"train"`` or ``"test"`` (the official split).
        laterality: ``"LEFT"`` or ``"RIGHT"``.
        view: ``"CC"`` or ``"MLO"``.
        pathology: as written in the CSV.
        full_image: absolute path of the full mammogram file.
        mask: absolute path of the TRUE ROI mask file (whatever the CSV says).
        crop: absolute path of the TRUE cropped-image file.
        swapped: the CSV's crop and mask columns name each other's files on this row.
        mask_wrong_size: the mask's rows x columns differ from the full image's (a few pixels off, or transposed).
    """

    csv_name: str
    patient_id: str
    abnormality_type: str
    abnormality_id: int
    split: str
    laterality: str
    view: str
    pathology: str
    full_image: str
    mask: str
    crop: str
    swapped: bool
    mask_wrong_size: bool


@dataclass(frozen=True)
class SyntheticCollection:
    """What :func:`make_synthetic_cbis` wrote.

    Attributes:
        root: absolute path of the collection (the dataset root to give a reader).
        layout: ``"classic"``, ``"nbia"`` or ``"kaggle"``.
        csv_files: case-CSV name -> absolute path.
        rows: one :class:`SyntheticRow` per CSV row, file by file in :data:`CSV_NAMES` order, CSV order within.
        images: number of distinct full-mammogram files (one per series; a film listed in both the mass and the
            calc files counts twice, as it does in CBIS-DDSM).
    """

    root: str
    layout: str
    csv_files: dict[str, str]
    rows: list[SyntheticRow]
    images: int

    @property
    def manifest_path(self) -> str:
        """``<root>/synthetic_manifest.json``."""
        return os.path.join(self.root, MANIFEST_NAME)


def _check_args(out_dir, layout, cases, seed, full_size, image_size, progress) -> tuple[int, int]:
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"out_dir must be a path (str or os.PathLike), got {type(out_dir).__name__}: {out_dir!r}.")
    if layout not in LAYOUTS:
        raise ValueError(f"Unsupported layout: {layout!r}, available options are {list(LAYOUTS)}.")
    if isinstance(cases, bool) or not isinstance(cases, numbers.Integral) or not MIN_CASES <= cases <= MAX_CASES:
        raise ValueError(
            f"cases must be an integer from {MIN_CASES} to {MAX_CASES} (fewer women cannot show every CBIS-DDSM "
            f"quirk), got {cases!r}."
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    for name, flag in (("full_size", full_size), ("progress", progress)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {flag!r}.")
    if image_size is None:
        return FULL_IMAGE_SIZE if full_size else DEFAULT_IMAGE_SIZE
    ok = (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in image_size)
        and MIN_IMAGE_SIZE[0] <= image_size[0] <= _MAX_IMAGE_SIDE
        and MIN_IMAGE_SIZE[1] <= image_size[1] <= _MAX_IMAGE_SIDE
    )
    if not ok:
        raise ValueError(
            f"image_size must be (rows, columns) with rows in {MIN_IMAGE_SIZE[0]}..{_MAX_IMAGE_SIDE} and columns in "
            f"{MIN_IMAGE_SIZE[1]}..{_MAX_IMAGE_SIDE}, got {image_size!r}."
        )
    return int(image_size[0]), int(image_size[1])


def _wrong_size(mask: np.ndarray, kind: str, delta: tuple[int, int]) -> np.ndarray:
    if kind == "transposed":
        return np.ascontiguousarray(mask.T)
    rows, cols = mask.shape[0] + delta[0], mask.shape[1] + delta[1]
    out = np.zeros((rows, cols), dtype=mask.dtype)
    r, c = min(rows, mask.shape[0]), min(cols, mask.shape[1])
    out[:r, :c] = mask[:r, :c]
    return out


class _Writer:
    """Writes image files in one layout and remembers what the layout's index files need."""

    def __init__(self, root: str, layout: str, pixel_spacing: float | None = None):
        self.root, self.layout, self.pixel_spacing = root, layout, pixel_spacing
        self.series_bytes: dict[str, list] = {}  # series UID -> [one FileSpec, total bytes] (NBIA metadata.csv)
        self.dicom_info: list[dict[str, object]] = []  # Kaggle dicom_info.csv rows

    def image(self, spec: FileSpec, pixels: np.ndarray, bits_stored: int, laterality: str) -> str:
        s = spec.series
        header = DicomHeader(
            spec.sop_uid,
            s.study_uid,
            s.series_uid,
            s.folder,
            s.description,
            laterality[0],
            s.study_date.strftime("%Y%m%d"),
            spec.index + 1,
            bits_stored,
            self.pixel_spacing,
        )
        rel = relative_path(self.layout, spec)
        if self.layout == "kaggle":
            data = jpeg_bytes(pixels)
            record = header.tags(*pixels.shape)
            record["file_path"] = f"CBIS-DDSM/dicom/{s.series_uid}/{kaggle_name(spec)[: -len('.jpg')]}.dcm"
            record["image_path"] = f"CBIS-DDSM/{rel}"
            self.dicom_info.append(record)
        else:
            data = dicom_bytes(pixels, header)
        path = os.path.join(self.root, *rel.split("/"))
        atomic_write(path, data)
        entry = self.series_bytes.setdefault(s.series_uid, [spec, 0])
        entry[1] += len(data)
        return path


def _write_images(
    plan: Plan, writer: _Writer, seed: int, progress: bool, malignant_signal: float = 1.0, lesion_drawer=None
) -> dict[int, tuple[str, str, str]]:
    """Render every film and write its full image(s), masks and crops; returns id(row) -> (full, mask, crop)."""
    images_of_film = defaultdict(list)
    for image in plan.images:
        images_of_film[image.film.index].append(image)
    rows_of_image = defaultdict(list)
    for row in plan.rows:
        rows_of_image[id(row.image)].append(row)
    films = plan.films
    if progress:
        from tqdm.auto import tqdm

        films = tqdm(films, desc="synthetic CBIS-DDSM", unit="film")
    paths: dict[int, tuple[str, str, str]] = {}
    for film in films:
        rendered = render_film(film, seed, malignant_signal, lesion_drawer)
        for image in images_of_film[film.index]:
            full = writer.image(image.file, rendered.pixels, film.bits_stored, film.side)
            for row in rows_of_image[id(image)]:
                placed = rendered.lesions[row.lesion.key]
                mask = placed.full_mask(film.rows, film.cols)
                if row.wrong_size:
                    mask = _wrong_size(mask, row.wrong_size, row.wrong_delta)
                y0, y1, x0, x1 = placed.crop_box
                crop = np.ascontiguousarray(rendered.pixels[y0:y1, x0:x1])
                mask_path = writer.image(row.mask, mask, 8, film.side)
                crop_path = writer.image(row.crop, crop, film.bits_stored, film.side)
                paths[id(row)] = (full, mask_path, crop_path)
    return paths


def make_synthetic_cbis(
    out_dir: str | os.PathLike,
    layout: str = "classic",
    cases: int = 40,
    seed: int = 0,
    full_size: bool = False,
    image_size: tuple[int, int] | None = None,
    progress: bool = False,
    malignant_signal: float = 1.0,
    realistic_lesions: bool = False,
) -> SyntheticCollection:
    """Write a synthetic CBIS-DDSM collection with every format quirk and trap of the real one.

    The same arguments always give byte-identical files (every UID, date and pixel comes from ``seed``), and the
    layout changes only where files go: the CSVs, UIDs and pixels are the same in all three layouts. A previous
    synthetic collection in ``out_dir`` (complete or interrupted) is replaced; anything else there is an error.
    ``<out_dir>/synthetic_manifest.json`` (written last) records the truth; readers can ignore it.

    Args:
        out_dir: the folder to write (created if missing); the dataset root to give a reader.
        layout: ``"classic"`` (TCIA tree), ``"nbia"`` (NBIA Data Retriever descriptive tree + ``metadata.csv``) or
            ``"kaggle"`` (8-bit JPEG tree + ``csv/dicom_info.csv``).
        cases: number of women (``P_xxxxx``), at least 8 so that every quirk appears.
        seed: seed of everything drawn.
        full_size: realistic films of about 5000 x 3000 (rows x columns) instead of about 640 x 400.
        image_size: ``(rows, columns)`` base size (each film is jittered by up to 6 %); overrides ``full_size``.
        progress: show a progress bar over films (tqdm).
        malignant_signal: multiplies the intensity MALIGNANT lesions add to the film. 1 (the default) draws them as
            described in :mod:`~monai_cbis.data.synthetic.drawing` (pathology shows in shape and margin only).
            -1 draws them dark on the tissue, the opposite of the bright benign lesions: an easy set, where a
            classifier from scratch tells pathology apart within a few CPU seconds (the classifier learning test
            uses it); not a property of real mammograms.
        realistic_lesions: lesions sized in millimetres as in CBIS-DDSM (masses 4 to 40 mm, clusters of 0.1 to 0.5 mm
            specks) with contrast that falls with breast density, on films of 50 um pixels at full size (coarser in
            proportion below; the DICOM files carry ``PixelSpacing``), as described in
            :mod:`~monai_cbis.data.synthetic.realistic`. False (the default) keeps the demo's lesions, sized in
            pixels so that they stay visible at 640 x 400, and writes no ``PixelSpacing``.

    Returns:
        SyntheticCollection: paths and the truth, one :class:`SyntheticRow` per CSV row.

    Raises:
        ValueError: a bad argument (the message shows the value and what is allowed).
        FileExistsError: ``out_dir`` holds something other than a synthetic collection.

    Example:
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> coll = make_synthetic_cbis(tmp.name, layout="nbia", cases=8, seed=1)
        >>> any(r.swapped for r in coll.rows), os.path.isfile(coll.rows[0].mask)
        (True, True)
        >>> tmp.cleanup()
    """
    base_size = _check_args(out_dir, layout, cases, seed, full_size, image_size, progress)
    if isinstance(malignant_signal, bool) or not isinstance(malignant_signal, numbers.Real):
        raise ValueError(f"malignant_signal must be a number (1: as drawn, -1: dark), got {malignant_signal!r}.")
    if not isinstance(realistic_lesions, (bool, np.bool_)):
        raise ValueError(f"realistic_lesions must be True or False, got {realistic_lesions!r}.")
    spacing = pixel_spacing_mm(base_size[1]) if realistic_lesions else None
    drawer = RealisticLesions(spacing) if spacing is not None else None
    root = os.path.abspath(os.fspath(out_dir))
    plan = make_plan(int(cases), int(seed), base_size)
    prepare_out_dir(root)
    writer = _Writer(root, layout, spacing)
    paths = _write_images(plan, writer, int(seed), bool(progress), float(malignant_signal), drawer)

    csv_dir = os.path.join(root, "csv") if layout == "kaggle" else root
    csv_files: dict[str, str] = {}
    for name in CSV_NAMES:
        csv_files[name] = os.path.join(csv_dir, name)
        atomic_write(csv_files[name], case_csv_bytes(plan.csv_rows[name]))
    if layout == "nbia":
        atomic_write(
            os.path.join(root, "metadata.csv"), metadata_csv_bytes([tuple(v) for v in writer.series_bytes.values()])
        )
    elif layout == "kaggle":
        atomic_write(os.path.join(root, "csv", "dicom_info.csv"), dicom_info_csv_bytes(writer.dicom_info))

    rows = []
    for r in plan.rows:
        full, mask, crop = paths[id(r)]
        les = r.lesion
        rows.append(
            SyntheticRow(
                r.csv_name, les.pid, les.abn_type, les.abn_id, les.split, les.side, r.view, les.pathology,
                full, mask, crop, r.swapped, bool(r.wrong_size),
            )
        )  # fmt: skip
    coll = SyntheticCollection(root, layout, csv_files, rows, len(plan.images))
    params = {
        "layout": layout,
        "cases": int(cases),
        "seed": int(seed),
        "full_size": bool(full_size),
        "image_size": list(base_size),
        "malignant_signal": float(malignant_signal),
        "realistic_lesions": bool(realistic_lesions),
        "pixel_spacing_mm": spacing,
    }
    manifest = {"generator": _GENERATOR, "format_version": _FORMAT_VERSION, "params": params, **asdict(coll)}
    atomic_write(coll.manifest_path, (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
    os.remove(os.path.join(root, IN_PROGRESS_NAME))
    return coll


def load_synthetic_collection(root: str | os.PathLike) -> SyntheticCollection:
    """Read back what :func:`make_synthetic_cbis` wrote to ``root`` (paths rebased if the folder was moved).

    Raises:
        FileNotFoundError: no complete synthetic collection at ``root``.
    """
    root = os.path.abspath(os.fspath(root))
    path = os.path.join(root, MANIFEST_NAME)
    if not os.path.isfile(path) or os.path.exists(os.path.join(root, IN_PROGRESS_NAME)):
        raise FileNotFoundError(f"No complete synthetic CBIS-DDSM collection at {root!r} (no {MANIFEST_NAME}).")
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if data.get("generator") != _GENERATOR:
        raise FileNotFoundError(f"{path} was not written by make_synthetic_cbis.")
    old = data["root"]

    def rebase(p: str) -> str:
        return os.path.join(root, os.path.relpath(p, old))

    rows = [SyntheticRow(**{**r, **{k: rebase(r[k]) for k in ("full_image", "mask", "crop")}}) for r in data["rows"]]
    csv_files = {k: rebase(v) for k, v in data["csv_files"].items()}
    return SyntheticCollection(root, data["layout"], csv_files, rows, int(data["images"]))
