"""A bundle's ``output_format``: which files its inference writes, and the check that its inputs can give them.

PNG masks (segmenters) stay the default; ``dicom_seg`` writes a DICOM SEG per prediction instead (and
``dicom_sr``, a detector's structured report). A DICOM output references its source image's UIDs, so every input of
a run that asks for one must be a DICOM file: :func:`inputs_for_output_format` says so before the model runs, naming
the inputs that are not, rather than failing on the first PNG after half the files were written.

Example:
    >>> inputs_for_output_format([{"image": "a/1-1.dcm"}], "dicom_seg", ["png", "dicom_seg"])
    [{'image': 'a/1-1.dcm'}]
    >>> inputs_for_output_format([{"image": "film.png"}], "dicom_seg", ["png", "dicom_seg"])
    Traceback (most recent call last):
    ...
    monai_cbis.outputs.dicom_source.NotADicomSourceError: output_format 'dicom_seg' writes DICOM objects that ...
    >>> inputs_for_output_format([], "nifti", ["png", "dicom_seg"])
    Traceback (most recent call last):
    ...
    ValueError: Unsupported output_format: 'nifti', available options are ['png', 'dicom_seg'].
"""

from __future__ import annotations

from collections.abc import Sequence

from ..data.files import DICOM_SUFFIXES, is_dicom_path
from .dicom_source import NotADicomSourceError

__all__ = ["DICOM_OUTPUT_FORMATS", "inputs_for_output_format"]

#: Output formats that reference their source DICOM (and so need DICOM inputs).
DICOM_OUTPUT_FORMATS = ("dicom_seg", "dicom_sr")


def inputs_for_output_format(items: list[dict], output_format: str, options: Sequence[str],
                             key: str = "image") -> list[dict]:  # fmt: skip
    """``items`` unchanged, after checking that ``output_format`` is one of ``options`` and that, for a DICOM
    output, every item's ``key`` file is a DICOM file.

    Raises:
        ValueError: ``output_format`` is not one of ``options`` (the message lists them).
        NotADicomSourceError: a DICOM output over inputs that are not DICOM (the message names up to five and says
            what to do).
    """
    if output_format not in options:
        raise ValueError(f"Unsupported output_format: {output_format!r}, available options are {list(options)}.")
    if output_format not in DICOM_OUTPUT_FORMATS:
        return items
    others = [str(it.get(key)) for it in items if not is_dicom_path(str(it.get(key, "")))]
    if others:
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        raise NotADicomSourceError(
            f"output_format {output_format!r} writes DICOM objects that reference their source image's Study, "
            f"Series and SOP Instance UIDs, so every input must be a DICOM file ({list(DICOM_SUFFIXES)}); "
            f"{len(others)} of {len(items)} are not: {', '.join(others[:5])}{more}. Use output_format "
            f"{options[0]!r} for them, or run on the DICOM files alone."
        )
    return items
