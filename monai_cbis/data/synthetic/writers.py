"""Where each synthetic file goes in each on-disk layout, the text files beside the images, and safe writing.

Layouts (``root`` is the folder a user passes as dataset root):

* ``classic``: ``root/CBIS-DDSM/<CSV path>``; the four case CSVs at ``root/``.
* ``nbia``: ``root/CBIS-DDSM/<SeriesFolder>/<MM-DD-YYYY>-DDSM[-NA]-<study 5>/1.000000-<description>-<series 5>/``
  ``1-<n>.dcm`` (``<study 5>``, ``<series 5>``: last 5 digits of the UIDs), ``n`` the InstanceNumber
  (``000000.dcm`` -> ``1-1.dcm``, ``000001.dcm`` -> ``1-2.dcm``), plus ``root/metadata.csv``; the
  four case CSVs at ``root/``.
* ``kaggle``: ``root/jpeg/<SeriesInstanceUID>/<n>-<nnn>.jpg`` (``n`` the InstanceNumber, ``nnn`` a 3-digit number),
  ``root/csv/dicom_info.csv`` and the four case CSVs, byte for byte, in ``root/csv/``.

Example:
    >>> relative_path("classic", spec)  # doctest: +SKIP
    'CBIS-DDSM/Mass-Training_P_00001_LEFT_CC/1.3.6.1.4.1.9590.100.1.2.4221.../1.3.6.1.4.1.9590.100.1.2.3423.../000000.dcm'
"""

from __future__ import annotations

import csv
import io
import os
import shutil

from ...atomic import atomic_write as _atomic_write
from ...atomic import is_temporary
from .model import FileSpec, PlannedRow
from .vocabulary import CALC_COLUMNS, CSV_NAMES, MASS_COLUMNS

__all__ = [
    "LAYOUTS",
    "MANIFEST_NAME",
    "IN_PROGRESS_NAME",
    "relative_path",
    "nbia_series_dir",
    "kaggle_name",
    "case_csv_bytes",
    "metadata_csv_bytes",
    "dicom_info_csv_bytes",
    "atomic_write",
    "prepare_out_dir",
]

LAYOUTS = ("classic", "nbia", "kaggle")
MANIFEST_NAME = "synthetic_manifest.json"
IN_PROGRESS_NAME = ".synthetic_in_progress"
# Everything a synthetic collection may put at the top of its root (any layout).
_OWN_TOP_LEVEL = frozenset({"CBIS-DDSM", "jpeg", "csv", "metadata.csv", MANIFEST_NAME, IN_PROGRESS_NAME, *CSV_NAMES})
_DICOM_INFO_COLUMNS = (
    "file_path",
    "image_path",
    "AccessionNumber",
    "BitsAllocated",
    "BitsStored",
    "BodyPartExamined",
    "Columns",
    "ConversionType",
    "HighBit",
    "InstanceNumber",
    "Laterality",
    "Modality",
    "PatientID",
    "PatientName",
    "PhotometricInterpretation",
    "PixelRepresentation",
    "Rows",
    "SOPClassUID",
    "SOPInstanceUID",
    "SamplesPerPixel",
    "SeriesDescription",
    "SeriesInstanceUID",
    "SeriesNumber",
    "StudyDate",
    "StudyID",
    "StudyInstanceUID",
)
_METADATA_COLUMNS = (
    "Series UID",
    "Collection",
    "3rd Party Analysis",
    "Data Description URI",
    "Subject ID",
    "Study UID",
    "Study Description",
    "Study Date",
    "Series Description",
    "Manufacturer",
    "Modality",
    "SOP Class Name",
    "SOP Class UID",
    "Number of Images",
    "File Size",
    "File Location",
)


def nbia_series_dir(spec: FileSpec) -> str:
    """``CBIS-DDSM/<SeriesFolder>/<study dir>/<series dir>`` of the NBIA descriptive tree."""
    s = spec.series
    na = "-NA" if s.nbia_na else ""
    study_dir = f"{s.study_date.strftime('%m-%d-%Y')}-DDSM{na}-{s.study_uid[-5:]}"
    return f"CBIS-DDSM/{s.folder}/{study_dir}/1.000000-{s.description}-{s.series_uid[-5:]}"


def kaggle_name(spec: FileSpec) -> str:
    """``<InstanceNumber>-<nnn>.jpg``."""
    return f"{spec.index + 1}-{spec.kaggle_number:03d}.jpg"


def relative_path(layout: str, spec: FileSpec) -> str:
    """Path of one file relative to the collection root, POSIX separators."""
    if layout == "classic":
        return f"CBIS-DDSM/{spec.csv_path}"
    if layout == "nbia":
        return f"{nbia_series_dir(spec)}/1-{spec.index + 1}.dcm"
    if layout == "kaggle":
        return f"jpeg/{spec.series.series_uid}/{kaggle_name(spec)}"
    raise ValueError(f"Unsupported layout: {layout!r}, available options are {list(LAYOUTS)}.")


def case_csv_bytes(rows: list[PlannedRow]) -> bytes:
    """One case-description CSV exactly as TCIA ships it: CRLF, no BOM, ``N/A``, one quoted path cell per row
    ending in an embedded ``\\n`` (mass: ``ROI mask file path``; calc: ``cropped image file path``).

    The crop and mask columns of a ``swapped`` row name each other's files.
    """
    if not rows:
        raise ValueError("A case CSV needs at least one row.")
    mass = rows[0].lesion.abn_type == "mass"
    lines = [",".join(MASS_COLUMNS if mass else CALC_COLUMNS)]
    for r in rows:
        les = r.lesion
        crop, mask = (r.mask, r.crop) if r.swapped else (r.crop, r.mask)
        crop_cell, mask_cell = crop.csv_path, mask.csv_path
        if mass:
            mask_cell = f'"{mask_cell}\n"'
        else:
            crop_cell = f'"{crop_cell}\n"'
        cells = [les.pid, str(r.density), les.side, r.view, str(les.abn_id), les.abn_type, *les.descriptors]
        cells += [str(les.assessment), les.pathology, str(les.subtlety), r.image.file.csv_path, crop_cell, mask_cell]
        lines.append(",".join(cells))
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.2f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:.2f} KB"


def metadata_csv_bytes(series: list[tuple[FileSpec, int]]) -> bytes:
    """NBIA ``metadata.csv``: one row per series, given as (one file of it, total bytes of the series)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(_METADATA_COLUMNS)
    for spec, n_bytes in series:
        s = spec.series
        w.writerow(
            [
                s.series_uid,
                "CBIS-DDSM",
                "NO",
                "https://doi.org/10.7937/K9/TCIA.2016.7O02S9CY",
                s.folder,
                s.study_uid,
                "",
                s.study_date.strftime("%m-%d-%Y"),
                s.description,
                "",
                "MG",
                "Secondary Capture Image Storage",
                "1.2.840.10008.5.1.4.1.1.7",
                s.n_images,
                _size_text(n_bytes),
                f"./{nbia_series_dir(spec)}",
            ]
        )
    return out.getvalue().encode("utf-8")


def dicom_info_csv_bytes(records: list[dict[str, object]]) -> bytes:
    """Kaggle ``csv/dicom_info.csv``: one row per image, LF line ends (a pandas export)."""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=_DICOM_INFO_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(records)
    return out.getvalue().encode("utf-8")


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary name, so a killed run never leaves a complete-looking file.

    The project's :func:`monai_cbis.atomic.atomic_write` without fsync: a collection is thousands of regenerable
    files, and the manifest, written last, is what says the set is complete.
    """
    _atomic_write(path, lambda f: f.write(data), mode="wb", fsync=False)


def prepare_out_dir(out_dir: str) -> None:
    """Make ``out_dir`` ready: create it, or clear a previous synthetic collection (complete or interrupted), and
    mark it as being written (the marker goes when the manifest is written, last).

    Raises:
        NotADirectoryError: ``out_dir`` is a file.
        FileExistsError: ``out_dir`` holds anything that is not a synthetic collection (we never mix).
    """
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise NotADirectoryError(f"out_dir {out_dir!r} exists and is not a directory.")
    os.makedirs(out_dir, exist_ok=True)
    entries = sorted(os.listdir(out_dir))
    ours = MANIFEST_NAME in entries or IN_PROGRESS_NAME in entries
    foreign = [e for e in entries if e not in _OWN_TOP_LEVEL and not is_temporary(e)]
    if entries and (not ours or foreign):
        shown = foreign or entries
        raise FileExistsError(
            f"out_dir {out_dir!r} is not empty and is not a synthetic CBIS-DDSM collection "
            f"({'unexpected entries' if ours else f'no {MANIFEST_NAME}'}: {shown[:5]}"
            f"{' ...' if len(shown) > 5 else ''}). Pass an empty or new folder; nothing was written."
        )
    atomic_write(os.path.join(out_dir, IN_PROGRESS_NAME), b"make_synthetic_cbis is writing this folder\n")
    for e in entries:
        if e == IN_PROGRESS_NAME:
            continue
        path = os.path.join(out_dir, e)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
