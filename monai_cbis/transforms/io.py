"""Loading CBIS-DDSM images for MONAI: 16-bit DICOM (classic and NBIA trees) and the Kaggle JPEGs.

:class:`CBISImageReader` is a MONAI ``ImageReader``, so it plugs into ``LoadImage(d)``; :class:`LoadMammogram` and
:class:`LoadMammogramd` are ``LoadImage(d)`` with the settings a mammogram wants (this reader, native dtype,
channel first); :class:`LoadMammogramIfPresentd` loads the keys an item may lack (an ROI mask at inference). What
the reader does that MONAI's ``PydicomReader`` does not:

* keeps the stored integers instead of converting 15 M pixels to float32: uint8 stays uint8 (masks, JPEG);
  uint16 becomes int16 when every value is below 32768, which is the same bits and costs nothing (12-bit films),
  else int32 (torch has no full uint16 support, and MONAI widens uint16 to int32 itself);
* honours ``PhotometricInterpretation = MONOCHROME1`` (inverted so that bright = dense, as in MONOCHROME2) and the
  ``RescaleSlope`` / ``RescaleIntercept`` tags (applied only when they are not the identity, giving float32);
* does not warn on every file that lacks ImageOrientationPatient / ImagePositionPatient (CBIS-DDSM files do);
* reduces a grey image saved as RGB (some JPEG conversions) to one channel, and refuses a real colour image.

Axis convention, shared by every transform in this package and by MONAI's own 2-D readers: an image of
``rows x columns`` pixels becomes an array of shape ``(W, H) = (columns, rows)`` (``(C, W, H)`` with a channel),
spatial axis 0 is x (left to right), spatial axis 1 is y (top to bottom). The reader transposes with OpenCV's
blocked transpose (about 6 ms for a full 16-bit film, against about 50 ms for numpy's copy of ``.T``, which MONAI
would otherwise make since it keeps every tensor contiguous). MONAI's writers (``SaveImage`` with ``PILWriter``)
use the same convention, so a PNG mask written from a prediction round-trips, and MONAI Label reads it back the
right way round.

Metadata (MetaTensor ``.meta``): ``filename_or_obj``, ``spatial_shape`` (the original ``(W, H)``, kept through every
later transform), ``original_channel_dim``, ``spacing`` (``(dx, dy)`` in mm from PixelSpacing or
ImagerPixelSpacing, else 1.0; DDSM films are about 0.05 mm but not always tagged), ``spacing_source``, ``affine``
and ``original_affine`` (``diag(dx, dy, 1)``), ``photometric_interpretation``, ``bits_stored``, ``inverted``,
``rescale_slope``, ``rescale_intercept``, ``source_format`` (``dicom`` / ``jpeg`` / ``png``).

Example:
    >>> from monai.transforms import LoadImaged
    >>> load = LoadImaged(["image", "label"], reader=CBISImageReader(), dtype=None, ensure_channel_first=True)
    >>> item = load({"image": "full.dcm", "label": ["mask1.dcm", "mask2.dcm"]})  # doctest: +SKIP
    >>> item["image"].shape, item["image"].dtype, item["label"].shape  # doctest: +SKIP
    ((1, 3000, 5000), torch.uint16, (2, 3000, 5000))
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from monai.data import ImageReader
from monai.transforms import LoadImage, LoadImaged, MapTransform
from monai.utils import ensure_tuple

from ..data.files import DICOM_SUFFIXES, RASTER_SUFFIXES, UnreadableImageError

__all__ = ["CBISImageReader", "LoadMammogram", "LoadMammogramd", "LoadMammogramIfPresentd"]


@dataclass
class _Decoded:
    """One decoded file: the stored pixels as ``(rows, columns)`` plus the metadata the reader reports."""

    pixels: np.ndarray
    meta: dict = field(default_factory=dict)


def _cause(e: Exception) -> str:
    """``"<type>: <message>"`` on one line (pydicom lists each decoder plugin's failure on its own line), so that
    a decode error is one line that names the file, wherever it is logged."""
    return " ".join(f"{type(e).__name__}: {e}".split())


def _spacing(ds) -> tuple[tuple[float, float], str]:
    """``((dx, dy), source)`` from PixelSpacing or ImagerPixelSpacing (both are ``[row spacing, column spacing]``)."""
    for tag in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(tag)
        if value is not None and len(value) == 2:
            try:
                dy, dx = float(value[0]), float(value[1])
            except (TypeError, ValueError):
                continue
            if dx > 0 and dy > 0:
                return (dx, dy), tag
    return (1.0, 1.0), "default"


_IMAGER_PIXEL_SPACING = 0x00181164


def _decode_dicom(path: str):
    """``(pixels, dataset without pixel data)``. pydicom 3 decodes straight from the file (half the time of
    ``dcmread(path).pixel_array`` on a full film, which reads the whole file into memory first)."""
    import pydicom

    try:
        from pydicom.pixels import pixel_array
    except ImportError:  # pydicom 2
        ds = pydicom.dcmread(path)
        return ds.pixel_array, ds
    ds = pydicom.Dataset()  # receives group 0028 (pixel module, PixelSpacing, rescale) and the tags named here
    return pixel_array(path, ds_out=ds, specific_tags=[_IMAGER_PIXEL_SPACING]), ds


def _read_dicom(path: str) -> _Decoded:
    try:
        stored, ds = _decode_dicom(path)
    except Exception as e:  # damaged or truncated files, missing decoder plugins
        raise UnreadableImageError(f"{path}: cannot decode DICOM pixel data ({_cause(e)}).") from e
    if stored.ndim != 2:
        raise UnreadableImageError(
            f"{path}: expected a single-frame grey DICOM (rows, columns), got pixel data of shape {stored.shape}."
        )
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2").strip().upper()
    bits = int(ds.get("BitsStored", stored.dtype.itemsize * 8) or stored.dtype.itemsize * 8)
    pixels = stored
    inverted = photometric == "MONOCHROME1"
    if inverted:  # low values are bright in MONOCHROME1: invert within the stored bit depth
        top = (1 << bits) - 1 if np.issubdtype(stored.dtype, np.unsignedinteger) else int(stored.max())
        pixels = (np.asarray(top, dtype=stored.dtype) - stored).astype(stored.dtype, copy=False)
    slope = float(ds.get("RescaleSlope", 1.0) or 1.0)
    intercept = float(ds.get("RescaleIntercept", 0.0) or 0.0)
    if slope != 1.0 or intercept != 0.0:
        pixels = pixels.astype(np.float32) * np.float32(slope) + np.float32(intercept)
    (dx, dy), source = _spacing(ds)
    meta = {
        "spacing": np.array([dx, dy], dtype=np.float64),
        "spacing_source": source,
        "photometric_interpretation": photometric,
        "bits_stored": bits,
        "inverted": inverted,
        "rescale_slope": slope,
        "rescale_intercept": intercept,
        "source_format": "dicom",
    }
    return _Decoded(pixels, meta)


def _read_raster(path: str) -> _Decoded:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            fmt = (im.format or os.path.splitext(path)[1].lstrip(".")).lower()
            arr = np.asarray(im)
    except Exception as e:
        raise UnreadableImageError(f"{path}: cannot decode image ({_cause(e)}).") from e
    if arr.ndim == 3:
        if arr.shape[-1] in (3, 4) and all(np.array_equal(arr[..., 0], arr[..., i]) for i in (1, 2)):
            arr = arr[..., 0]
        else:
            raise UnreadableImageError(
                f"{path}: expected a grey image, got {arr.shape[-1]} channels that differ (shape {arr.shape}); "
                "mammograms are single-channel, convert the file to grey first."
            )
    bits = 16 if arr.dtype.itemsize == 2 else 8
    meta = {
        "spacing": np.array([1.0, 1.0], dtype=np.float64),
        "spacing_source": "default",
        "photometric_interpretation": "MONOCHROME2",
        "bits_stored": bits,
        "inverted": False,
        "rescale_slope": 1.0,
        "rescale_intercept": 0.0,
        "source_format": "jpeg" if fmt in ("jpeg", "jpg", "mpo") else fmt,
    }
    return _Decoded(arr, meta)


def _torch_friendly(pixels: np.ndarray) -> np.ndarray:
    """uint16 pixels as int16 when every value is below 32768 (the same bits, no copy); torch lacks full uint16
    support, so MONAI would otherwise widen them to int32 (a 60 MB copy of a full film)."""
    if pixels.dtype == np.uint16 and pixels.size and cv2.minMaxLoc(pixels)[1] < 32768:
        return pixels.view(np.int16)
    return pixels


def _transposed(pixels: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``pixels.T`` as a contiguous array. MONAI makes every tensor contiguous anyway (a numpy transpose copy of a
    full mammogram costs about 50 ms); OpenCV's blocked transpose does it in about 6 ms."""
    if pixels.dtype in (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32, np.float64):
        return cv2.transpose(pixels, dst=out) if out is not None else cv2.transpose(pixels)
    res = np.ascontiguousarray(pixels.T)
    if out is not None:
        out[...] = res
        return out
    return res


class CBISImageReader(ImageReader):
    """MONAI image reader for CBIS-DDSM DICOM, JPEG and PNG files (see the module docstring for what it keeps).

    A list of files (an image's several lesion masks) is stacked as channels, ``(N, W, H)``; the files must have
    the same size, or a ``ValueError`` names them and their sizes.

    Example:
        >>> from monai.transforms import LoadImage
        >>> load = LoadImage(reader=CBISImageReader(), dtype=None, ensure_channel_first=True)
        >>> img = load("full.dcm")  # doctest: +SKIP
        >>> img.shape, img.dtype, img.meta["spacing"]  # doctest: +SKIP
        ((1, 3000, 5000), torch.uint16, array([0.05, 0.05]))
    """

    suffixes: tuple[str, ...] = DICOM_SUFFIXES + RASTER_SUFFIXES

    def verify_suffix(self, filename: Sequence[os.PathLike] | os.PathLike) -> bool:
        """True when every name ends in .dcm, .dicom, .jpg, .jpeg or .png (case-insensitive)."""
        return all(str(f).lower().endswith(self.suffixes) for f in ensure_tuple(filename))

    def read(self, data: Sequence[os.PathLike] | os.PathLike, **kwargs) -> _Decoded | list[_Decoded]:
        """Decode one file, or each file of a list.

        Raises:
            UnreadableImageError: a missing, damaged or truncated file, or a colour image (a ``ValueError``).
        """
        names = [str(f) for f in ensure_tuple(data)]
        out = []
        for name in names:
            if not os.path.isfile(name):
                raise UnreadableImageError(f"{name}: file not found.")
            decoded = _read_dicom(name) if name.lower().endswith(DICOM_SUFFIXES) else _read_raster(name)
            decoded.meta["source_file"] = name
            out.append(decoded)
        return out if len(out) > 1 else out[0]

    def get_data(self, img: _Decoded | list[_Decoded]) -> tuple[np.ndarray, dict]:
        """Return ``(array, meta)``: ``(W, H)`` for one file, ``(N, W, H)`` for a list (channel dim 0)."""
        items = list(ensure_tuple(img))
        shapes = [it.pixels.shape for it in items]
        if len(set(shapes)) > 1:
            listing = ", ".join(f"{it.meta['source_file']} {s[0]}x{s[1]}" for it, s in zip(items, shapes, strict=True))
            raise ValueError(
                f"the {len(items)} files to stack as channels differ in size (rows x columns): {listing}. "
                "Masks must have their image's size; drop or fix the odd file."
            )
        first = items[0]
        rows, cols = first.pixels.shape
        dx, dy = (float(v) for v in first.meta["spacing"])
        affine = np.diag([dx, dy, 1.0])
        meta = {k: v for k, v in first.meta.items() if k != "source_file"}
        meta.update(
            {
                "spatial_shape": np.array([cols, rows]),
                "affine": affine,
                "original_affine": affine.copy(),
            }
        )
        pixels = [_torch_friendly(it.pixels) for it in items]
        for it in items:  # hand the decoded buffers over: LoadImage keeps ``img`` alive until it returns
            it.pixels = None
        if len(items) == 1:
            meta["original_channel_dim"] = float("nan")
            return _transposed(pixels.pop()), meta
        meta["original_channel_dim"] = 0
        out = np.empty((len(items), cols, rows), dtype=np.result_type(*[p.dtype for p in pixels]))
        for i in range(len(pixels)):
            p, pixels[i] = pixels[i], None
            _transposed(p.astype(out.dtype, copy=False), out=out[i])
            del p
        return out, meta


class LoadMammogram(LoadImage):
    """``LoadImage`` with :class:`CBISImageReader`, the native dtype and a channel-first output ``(C, W, H)``.

    Unlike ``LoadImage(reader=CBISImageReader())``, a file the reader refuses (missing, damaged, colour, masks of
    different sizes) raises its error here; plain ``LoadImage`` would quietly retry each of MONAI's other readers.

    Args:
        reader: defaults to a new :class:`CBISImageReader`.
        image_only, dtype, ensure_channel_first, args, kwargs: as for ``monai.transforms.LoadImage``; ``dtype=None``
            keeps uint16 (pass ``np.float32`` for MONAI's usual float output).

    Example:
        >>> img = LoadMammogram()("full.dcm")  # doctest: +SKIP
        >>> img.shape, img.dtype  # doctest: +SKIP
        ((1, 3000, 5000), torch.uint16)
    """

    def __init__(self, reader=None, image_only: bool = True, dtype=None, ensure_channel_first: bool = True, **kwargs):
        self.cbis_reader = reader if reader is not None else CBISImageReader()
        super().__init__(
            reader=self.cbis_reader,
            image_only=image_only,
            dtype=dtype,
            ensure_channel_first=ensure_channel_first,
            **kwargs,
        )

    def __call__(self, filename, reader=None):
        # a runtime reader: MONAI then lets its errors through instead of retrying every other registered reader
        return super().__call__(filename, reader if reader is not None else self.cbis_reader)


class LoadMammogramd(LoadImaged):
    """Dictionary twin of :class:`LoadMammogram`; a key holding a list of files is stacked as channels.

    Example:
        >>> load = LoadMammogramd(["image", "label"])
        >>> load({"image": "full.dcm", "label": ["m1.dcm", "m2.dcm"]})["label"].shape  # doctest: +SKIP
        (2, 3000, 5000)
    """

    def __init__(self, keys, reader=None, dtype=None, ensure_channel_first: bool = True, **kwargs):
        self.cbis_reader = reader if reader is not None else CBISImageReader()
        super().__init__(
            keys, reader=self.cbis_reader, dtype=dtype, ensure_channel_first=ensure_channel_first, **kwargs
        )

    def __call__(self, data, reader=None):
        return super().__call__(data, reader if reader is not None else self.cbis_reader)


class LoadMammogramIfPresentd(MapTransform):
    """Load the keys an item has with :class:`LoadMammogram` and pass the items that lack them: the loader for an
    optional file such as the ROI mask of an inference item (a film sent without an ROI is segmented whole).

    The output of a key that is present is what :class:`LoadMammogramd` gives (a ``MetaTensor``, ``(C, W, H)``); a
    key that is absent stays absent, so later transforms see the same item shapes as without this loader. Missing
    keys are the point, so ``allow_missing_keys`` is always True here; for keys every item has, use
    :class:`LoadMammogramd`, which raises on a missing key as MONAI transforms do by default.

    Why not ``LoadMammogramd(keys, allow_missing_keys=True)``: MONAI Label's bundle inference replaces every
    ``LoadImaged`` of a pipeline by its ``LoadImageTensord``, which indexes each of the wrapped transform's keys and so
    fails on an item without the mask, whatever ``allow_missing_keys`` says. This transform is no ``LoadImaged``, so
    MONAI Label leaves it alone. Its array twin is :class:`LoadMammogram` (one file or list of files in, one image
    out); "if present" is a property of dictionary items only.

    Args:
        keys: the optional keys (file path, or a list of files stacked as channels).
        reader, dtype, ensure_channel_first, kwargs: as for :class:`LoadMammogram` (the output is always the image
            alone, as with ``image_only=True``).

    Example:
        >>> load = LoadMammogramIfPresentd("mask")
        >>> load({"image": "full.dcm"})  # no mask: nothing to load
        {'image': 'full.dcm'}
        >>> load({"image": "full.dcm", "mask": "mask.dcm"})["mask"].shape  # doctest: +SKIP
        (1, 3000, 5000)
    """

    def __init__(self, keys, reader=None, dtype=None, ensure_channel_first: bool = True, **kwargs) -> None:
        super().__init__(keys, allow_missing_keys=True)
        self.loader = LoadMammogram(
            reader, image_only=True, dtype=dtype, ensure_channel_first=ensure_channel_first, **kwargs
        )

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.loader(d[key])
        return d
