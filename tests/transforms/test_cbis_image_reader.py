"""CBISImageReader, LoadMammogram(d) and LoadImaged with the reader: dtype, axes, photometric, rescale, spacing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import LoadImage, LoadImaged, SaveImage

from monai_cbis.data.files import UnreadableImageError
from monai_cbis.transforms import CBISImageReader, LoadMammogram, LoadMammogramd


def _film(rows=40, cols=24, top=4095, seed=0):
    return np.random.default_rng(seed).integers(0, top + 1, (rows, cols)).astype(np.uint16)


def test_dicom_keeps_integers_and_uses_w_h_axes(tmp_path, write_dicom):
    pixels = _film()
    path = write_dicom(tmp_path / "full.dcm", pixels, bits_stored=12)
    load = LoadMammogram()  # (MONAI's constructor may warn about optional GPU decoders: not per file)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no orientation warning per file (MONAI's PydicomReader warns)
        img = load(path)
    assert isinstance(img, MetaTensor)
    assert tuple(img.shape) == (1, 24, 40)  # (C, W, H) = (1, columns, rows)
    assert img.dtype == torch.int16  # uint16 below 32768: same bits, no widening
    np.testing.assert_array_equal(img[0].numpy(), pixels.T)
    assert img.is_contiguous()
    meta = img.meta
    assert list(meta["spatial_shape"]) == [24, 40]
    assert meta["filename_or_obj"] == path
    assert meta["photometric_interpretation"] == "MONOCHROME2"
    assert meta["bits_stored"] == 12 and meta["inverted"] is False
    assert meta["source_format"] == "dicom"


def test_full_16_bit_range_is_widened_exactly(tmp_path, write_dicom):
    pixels = _film(top=65535, seed=1)
    pixels[0, 0] = 65535
    img = LoadMammogram()(write_dicom(tmp_path / "f.dcm", pixels))
    assert img.dtype == torch.int32
    np.testing.assert_array_equal(img[0].numpy(), pixels.T.astype(np.int32))


def test_monochrome1_is_inverted_within_bits_stored(tmp_path, write_dicom):
    pixels = _film(top=4095)
    img = LoadMammogram()(write_dicom(tmp_path / "m1.dcm", pixels, photometric="MONOCHROME1", bits_stored=12))
    np.testing.assert_array_equal(img[0].numpy(), (4095 - pixels.astype(np.int32)).T)
    assert img.meta["inverted"] is True and img.meta["photometric_interpretation"] == "MONOCHROME1"


def test_rescale_slope_and_intercept(tmp_path, write_dicom):
    pixels = _film(top=1000)
    img = LoadMammogram()(write_dicom(tmp_path / "r.dcm", pixels, slope=0.5, intercept=-10))
    assert img.dtype == torch.float32
    np.testing.assert_allclose(img[0].numpy(), pixels.T * 0.5 - 10)
    assert img.meta["rescale_slope"] == 0.5 and img.meta["rescale_intercept"] == -10


@pytest.mark.parametrize(
    "kwargs, spacing, source",
    [
        ({"pixel_spacing": (0.07, 0.05)}, [0.05, 0.07], "PixelSpacing"),  # [row, column] -> (dx, dy)
        ({"imager_spacing": (0.1, 0.1)}, [0.1, 0.1], "ImagerPixelSpacing"),
        ({}, [1.0, 1.0], "default"),
    ],
)
def test_spacing_and_affine(tmp_path, write_dicom, kwargs, spacing, source):
    img = LoadMammogram()(write_dicom(tmp_path / "s.dcm", _film(), **kwargs))
    np.testing.assert_allclose(img.meta["spacing"], spacing)
    assert img.meta["spacing_source"] == source
    np.testing.assert_allclose(np.diag(img.affine.numpy())[:2], spacing)
    np.testing.assert_allclose(img.pixdim.numpy()[:2], spacing)


def test_list_of_masks_is_stacked_as_channels(tmp_path, write_dicom):
    m1 = np.zeros((40, 24), np.uint8)
    m1[5:9, 3:6] = 255
    m2 = np.zeros((40, 24), np.uint8)
    m2[20:30, 10:20] = 255
    paths = [write_dicom(tmp_path / "m1.dcm", m1), write_dicom(tmp_path / "m2.dcm", m2)]
    out = LoadMammogramd(["label"])({"label": paths})
    assert tuple(out["label"].shape) == (2, 24, 40) and out["label"].dtype == torch.uint8
    np.testing.assert_array_equal(out["label"][1].numpy(), m2.T)


def test_masks_of_different_sizes_name_the_files(tmp_path, write_dicom):
    a = write_dicom(tmp_path / "a.dcm", np.zeros((40, 24), np.uint8))
    b = write_dicom(tmp_path / "b.dcm", np.zeros((41, 24), np.uint8))
    with pytest.raises(ValueError, match=r"differ in size.*a\.dcm 40x24.*b\.dcm 41x24"):
        LoadMammogramd(["label"])({"label": [a, b]})


def test_loadimaged_with_the_reader_works_and_is_float_by_default(tmp_path, write_dicom):
    pixels = _film()
    path = write_dicom(tmp_path / "full.dcm", pixels)
    out = LoadImaged("image", reader=CBISImageReader(), ensure_channel_first=True)({"image": path})
    assert out["image"].dtype == torch.float32  # MONAI's default dtype
    np.testing.assert_array_equal(out["image"][0].numpy(), pixels.T.astype(np.float32))
    native = LoadImaged("image", reader=CBISImageReader(), dtype=None, ensure_channel_first=True)({"image": path})
    assert native["image"].dtype == torch.int16


def test_jpeg_and_rgb_grey(tmp_path, write_raster):
    grey = np.random.default_rng(0).integers(0, 256, (30, 20)).astype(np.uint8)
    png = write_raster(tmp_path / "g.png", np.stack([grey] * 3, axis=-1))  # grey saved as RGB
    img = LoadMammogram()(png)
    assert tuple(img.shape) == (1, 20, 30) and img.dtype == torch.uint8
    np.testing.assert_array_equal(img[0].numpy(), grey.T)
    jpg = write_raster(tmp_path / "g.jpg", grey)
    img = LoadMammogram()(jpg)
    assert img.meta["source_format"] == "jpeg" and tuple(img.shape) == (1, 20, 30)


def test_colour_image_is_refused(tmp_path, write_raster):
    rgb = np.zeros((30, 20, 3), np.uint8)
    rgb[..., 0] = 200
    path = write_raster(tmp_path / "c.png", rgb)
    with pytest.raises(UnreadableImageError, match=r"c\.png: expected a grey image, got 3 channels"):
        LoadMammogram()(path)


def test_missing_and_damaged_files(tmp_path):
    with pytest.raises(UnreadableImageError, match="nothere.dcm: file not found"):
        CBISImageReader().read(str(tmp_path / "nothere.dcm"))
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"not a dicom")
    with pytest.raises(UnreadableImageError, match="bad.dcm: cannot decode DICOM"):
        CBISImageReader().read(str(bad))


@pytest.mark.parametrize("syntax", ["JPEG2000Lossless", "RLELossless"])
def test_damaged_compressed_pixels_give_one_line_naming_the_file(tmp_path, write_dicom, syntax):
    """The header is sound (the index passes it); pydicom's error lists each decoder plugin on its own line."""
    import pydicom
    from pydicom import uid
    from pydicom.encaps import encapsulate

    path = write_dicom(tmp_path / "film.dcm", _film())
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = getattr(uid, syntax)
    ds.PixelData = encapsulate([b"damaged" * 10])
    ds["PixelData"].is_undefined_length = True
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(UnreadableImageError) as e:
        LoadMammogram()(path)
    message = str(e.value)
    assert message.startswith(f"{path}: cannot decode DICOM pixel data (") and "\n" not in message


def test_verify_suffix():
    reader = CBISImageReader()
    assert reader.verify_suffix(["a.dcm", "b.JPG", "c.png"])
    assert not reader.verify_suffix("a.nii.gz")


def test_png_mask_round_trips_through_monai_writer(tmp_path, write_dicom):
    """A (1, W, H) prediction written by MONAI's PNG writer reads back the right way round."""
    mask = np.zeros((40, 24), np.uint8)
    mask[3:10, 15:22] = 1  # asymmetric, so a transpose would show
    img = LoadMammogram()(write_dicom(tmp_path / "m.dcm", mask))
    SaveImage(output_dir=tmp_path, output_ext=".png", output_dtype=np.uint8, separate_folder=False, scale=255)(img)
    written = list(tmp_path.glob("*.png"))
    assert len(written) == 1
    back = LoadImage(image_only=True, ensure_channel_first=True)(str(written[0]))
    np.testing.assert_array_equal(back[0].numpy() > 0, img[0].numpy() > 0)
    from PIL import Image

    np.testing.assert_array_equal(np.asarray(Image.open(written[0])) > 0, mask > 0)  # rows x columns on disk
