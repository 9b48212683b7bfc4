"""Fixtures for the transform tests: small DICOM / JPEG writers, a mammogram phantom, input-type converters."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from monai.data import MetaTensor


def _write_dicom(
    path,
    pixels: np.ndarray,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    slope: float | None = None,
    intercept: float | None = None,
    pixel_spacing: tuple[float, float] | None = None,
    imager_spacing: tuple[float, float] | None = None,
    laterality: str | None = None,
) -> str:
    """Write a ``(rows, columns)`` uint8/uint16 array as an uncompressed DICOM file; returns the path."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    from monai_cbis.data.synthetic.encode import write_dicom_file

    pixels = np.ascontiguousarray(pixels)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns = pixels.shape
    bits = pixels.dtype.itemsize * 8
    ds.BitsAllocated = bits
    ds.BitsStored = bits_stored or bits
    ds.HighBit = ds.BitsStored - 1
    ds.SamplesPerPixel = 1
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = photometric
    if slope is not None:
        ds.RescaleSlope = slope
    if intercept is not None:
        ds.RescaleIntercept = intercept
    if pixel_spacing is not None:
        ds.PixelSpacing = list(pixel_spacing)
    if imager_spacing is not None:
        ds.ImagerPixelSpacing = list(imager_spacing)
    if laterality is not None:
        ds.ImageLaterality = laterality
    ds.PixelData = pixels.tobytes()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_dicom_file(ds, str(path))  # pydicom 3 and 2.4 (MONAI Label's environment)
    return str(path)


def _write_raster(path, pixels: np.ndarray, quality: int = 90) -> str:
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(pixels))
    if str(path).lower().endswith((".jpg", ".jpeg")):
        im.save(str(path), quality=quality)
    else:
        im.save(str(path))
    return str(path)


@pytest.fixture
def write_dicom():
    """``write_dicom(path, pixels (rows, columns), photometric=..., bits_stored=..., slope=..., ...)``."""
    return _write_dicom


@pytest.fixture
def write_raster():
    """``write_raster(path, pixels)``: PNG, or JPEG for .jpg names."""
    return _write_raster


@dataclass
class Phantom:
    """A film in DICOM orientation ``(rows, columns)`` and its lesion masks (uint8 0/255), plus the lesion boxes
    ``(row0, row1, col0, col1)``."""

    image: np.ndarray
    masks: list[np.ndarray]
    boxes: list[tuple[int, int, int, int]]
    laterality: str

    @property
    def chw(self) -> np.ndarray:
        """The image as the package's ``(1, W, H)`` array."""
        return np.ascontiguousarray(self.image.T)[None]

    def mask_chw(self, i: int = 0) -> np.ndarray:
        return np.ascontiguousarray(self.masks[i].T)[None]


def make_phantom(
    rows: int = 200,
    cols: int = 120,
    laterality: str = "LEFT",
    lesions: tuple[tuple[int, int, int, int], ...] = ((80, 110, 30, 55),),
    border: int = 3,
    label: bool = True,
    seed: int = 0,
) -> Phantom:
    """A breast (half-ellipse against the chest wall) with textured tissue, bright film border bands and a scanner
    label in the background; each lesion is a filled ellipse in the box ``(row0, row1, col0, col1)`` given for a
    LEFT breast (chest wall at column 0) and mirrored for RIGHT."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:rows, 0:cols]
    breast = ((yy - rows / 2) / (rows * 0.42)) ** 2 + (xx / (cols * 0.7)) ** 2 <= 1.0
    img = np.full((rows, cols), 200.0)
    img[breast] = 1200 + 300 * rng.random(int(breast.sum()))
    masks, boxes = [], []
    for r0, r1, c0, c1 in lesions:
        cy, cx, ry, rx = (r0 + r1 - 1) / 2, (c0 + c1 - 1) / 2, (r1 - r0) / 2, (c1 - c0) / 2
        blob = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
        img[blob] += 600
        m = np.where(blob, 255, 0).astype(np.uint8)
        rr, cc = np.nonzero(m)
        masks.append(m)
        boxes.append((int(rr.min()), int(rr.max()) + 1, int(cc.min()), int(cc.max()) + 1))
    if border:
        img[:border, :] = 3800
        img[-border:, :] = 3800
        img[:, -border:] = 3800
    if label:
        img[10:22, cols - 30 : cols - 10] = 3500
    img = img.astype(np.uint16)
    if laterality == "RIGHT":
        img = img[:, ::-1].copy()
        masks = [m[:, ::-1].copy() for m in masks]
        boxes = [(r0, r1, cols - c1, cols - c0) for r0, r1, c0, c1 in boxes]
    return Phantom(img, masks, boxes, laterality)


@pytest.fixture
def phantom():
    """``phantom(rows=..., cols=..., laterality=..., lesions=((r0, r1, c0, c1), ...), ...)`` -> Phantom."""
    return make_phantom


def _as_numpy(a):
    return np.asarray(a)


def _as_torch(a):
    return torch.as_tensor(np.asarray(a))


def _as_meta(a):
    return MetaTensor(torch.as_tensor(np.asarray(a)), meta={"filename_or_obj": "test"})


@pytest.fixture(params=["numpy", "torch", "metatensor"])
def as_type(request):
    """Converts a numpy array to each input type the transforms accept (parameterized)."""
    return {"numpy": _as_numpy, "torch": _as_torch, "metatensor": _as_meta}[request.param]


def to_np(x) -> np.ndarray:
    """A transform output as numpy."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


@pytest.fixture
def np_of():
    """``np_of(output)`` -> numpy array."""
    return to_np
