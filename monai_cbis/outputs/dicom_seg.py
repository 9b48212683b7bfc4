"""DICOM Segmentation (SEG) of a predicted lesion mask, referencing the mammogram it was predicted on.

MONAI writes no DICOM SEG; :func:`segmentation_from_mask` builds one with highdicom, :func:`write_dicom_seg` writes
it atomically, and :class:`SaveDicomSeg` / :class:`SaveDicomSegd` are the writer transforms a bundle's inference
post-processing runs (``--output_format dicom_seg``), after the prediction has been mapped back onto the source
film (``Invertd``) and thresholded. The SEG is:

* **binary** (SegmentationType ``BINARY``, one bit per pixel): the bundles threshold the sigmoid at 0.5, and the
  PNG mask of ``output_format png`` holds the same pixels;
* one frame of the source's rows x columns, always written (also when nothing was found), one segment:
  label ``lesion``, category *Morphologically Abnormal Structure* (SCT 49755003), type *Lesion* (SCT 52988006),
  anatomic region *Breast* (SCT 76752008), algorithm type ``AUTOMATIC`` named by the bundle's name and version
  (family *Artificial Intelligence*, DCM 123110);
* in the source's study, in a series of its own; its Referenced Series Sequence and the frame's Source Image
  Sequence name the source's Series and SOP Instance UIDs. The source's PixelSpacing (and FrameOfReferenceUID,
  when it has one) is copied by highdicom; CBIS-DDSM's films have neither, which a SEG allows.

Example:
    >>> import numpy as np, pydicom
    >>> from pydicom.dataset import Dataset
    >>> src = Dataset()
    >>> src.update({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.7", "SOPInstanceUID": "1.2.3.4", "Modality": "MG",
    ...             "StudyInstanceUID": "1.2.3.5", "SeriesInstanceUID": "1.2.3.6", "Rows": 6, "Columns": 4,
    ...             "PatientID": "P_00001", "PatientName": "P_00001^", "PatientBirthDate": "", "PatientSex": "",
    ...             "StudyDate": "", "StudyTime": "", "StudyID": "", "AccessionNumber": "",
    ...             "ReferringPhysicianName": "", "SamplesPerPixel": 1, "PhotometricInterpretation": "MONOCHROME2",
    ...             "BitsAllocated": 16, "BitsStored": 12, "HighBit": 11, "PixelRepresentation": 0})
    >>> mask = np.zeros((6, 4), bool); mask[1:3, 2:4] = True
    >>> seg = segmentation_from_mask(src, mask, Algorithm("unet_roi", "0.1.0"))
    >>> seg.Modality, seg.SegmentationType, (seg.Rows, seg.Columns)
    ('SEG', 'BINARY', (6, 4))
    >>> seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID
    '1.2.3.4'
    >>> bool((seg.pixel_array.astype(bool) == mask).all())
    True
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Hashable, Mapping

import numpy as np
from monai.config import KeysCollection
from monai.data import FolderLayout, MetaTensor
from monai.transforms import MapTransform, Transform

from .dicom_source import Algorithm, derived_uid, quiet_highdicom, read_source, save_dicom, source_file

__all__ = ["SEGMENT_LABEL", "SaveDicomSeg", "SaveDicomSegd", "segmentation_from_mask", "write_dicom_seg"]

#: The one segment's label (SegmentLabel), as the bundles' ``channel_def`` names the foreground.
SEGMENT_LABEL = "lesion"
#: SeriesNumber of the written SEG series (a number of its own, apart from the source's series 1).
_SERIES_NUMBER = 901


def _codes():
    from highdicom.sr import CodedConcept

    return {
        "category": CodedConcept("49755003", "SCT", "Morphologically Abnormal Structure"),
        "type": CodedConcept("52988006", "SCT", "Lesion"),
        "breast": CodedConcept("76752008", "SCT", "Breast"),
        "ai": CodedConcept("123110", "DCM", "Artificial Intelligence"),
    }


def _check_mask(mask: np.ndarray, source, where: str) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"{where}: a DICOM SEG needs a 2-D (rows, columns) mask, got shape {mask.shape}.")
    rows, cols = int(source.Rows), int(source.Columns)
    if mask.shape != (rows, cols):
        raise ValueError(
            f"{where}: the mask is {mask.shape[0]} x {mask.shape[1]} (rows x columns) but its source image is "
            f"{rows} x {cols}; map the prediction back onto the source film (Invertd) before writing a SEG."
        )
    return mask.astype(bool)


def segmentation_from_mask(source, mask: np.ndarray, algorithm: Algorithm):
    """A binary DICOM SEG (``highdicom.seg.Segmentation``) of ``mask`` over ``source``.

    Args:
        source: the source image's header (:func:`~monai_cbis.outputs.dicom_source.read_source`, or any pydicom
            dataset with the patient, study and image pixel attributes).
        mask: ``(rows, columns)``, the source's size; non-zero is lesion.
        algorithm: the bundle that predicted it.

    Raises:
        ValueError: ``mask`` is not 2-D or not the source's rows x columns.
    """
    import highdicom as hd

    mask = _check_mask(mask, source, str(source.get("SOPInstanceUID", "source")))
    codes = _codes()
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label=SEGMENT_LABEL,
        segmented_property_category=codes["category"],
        segmented_property_type=codes["type"],
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=hd.AlgorithmIdentificationSequence(
            name=algorithm.name, family=codes["ai"], version=algorithm.version
        ),
        anatomic_regions=[codes["breast"]],
    )
    digest = hashlib.sha256(np.packbits(mask).tobytes()).hexdigest()
    key = (source.SOPInstanceUID, algorithm.name, algorithm.version, digest)
    with quiet_highdicom():
        seg = hd.seg.Segmentation(
            source_images=[source],
            pixel_array=mask,
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=[description],
            series_instance_uid=derived_uid(*key, "seg-series"),
            series_number=_SERIES_NUMBER,
            sop_instance_uid=derived_uid(*key, "seg-instance"),
            instance_number=1,
            manufacturer=algorithm.manufacturer,
            manufacturer_model_name=algorithm.name,
            software_versions=algorithm.software_versions,
            device_serial_number="none",
            content_label="LESION",
            content_description=f"{algorithm.name} lesion mask"[:64],
            omit_empty_frames=False,  # one frame even when nothing was found: "no lesion" is a result too
        )
    seg.SeriesDescription = f"{algorithm.name} {algorithm.version} lesion segmentation"[:64]
    if "FrameOfReferenceUID" not in seg and "PatientOrientation" not in seg:
        # type 2C of the General Image module when there is no frame of reference (dciodvfy reports its absence):
        # the film's own orientation (the SEG has its pixel grid), empty when the film has none, as CBIS-DDSM's
        seg.PatientOrientation = source.get("PatientOrientation", "")
    return seg


def write_dicom_seg(mask: np.ndarray, source_path: str | os.PathLike, output_path: str | os.PathLike,
                    algorithm: Algorithm) -> str:  # fmt: skip
    """Write the DICOM SEG of ``mask`` (``(rows, columns)``) over the DICOM image ``source_path`` to
    ``output_path`` atomically; returns the path.

    Raises:
        NotADicomSourceError: ``source_path`` is not a DICOM image a SEG can reference (the message says why).
        ValueError: the mask is not the source's rows x columns (the message names the file).
    """
    source = read_source(source_path)
    _check_mask(mask, source, str(source_path))
    return save_dicom(segmentation_from_mask(source, mask, algorithm), output_path)


class SaveDicomSeg(Transform):
    """Write a predicted mask as a DICOM SEG over its source DICOM (see the module docstring); return the mask.

    The mask is MONAI's 2-D layout ``(1, W, H)`` or ``(W, H)`` (spatial axis 0 = columns) at the source film's size,
    as ``Invertd`` leaves it; values above 0.5 are lesion. Files are named as ``SaveImaged`` names the PNG masks
    (MONAI's ``FolderLayout``: the name's path under ``data_root_dir`` mirrored under ``output_dir``), with
    ``_<output_postfix>.dcm``: ``out/a/1-1_seg.dcm`` beside where ``out/a/1-1.png`` would be.

    Args:
        output_dir: the folder the files go under.
        algorithm_name: the bundle's name (the segment's algorithm, the SEG's model name).
        algorithm_version: the bundle's version.
        data_root_dir: the part of each name's path not mirrored under ``output_dir`` (as ``SaveImaged``'s).
        output_postfix: appended to each file's stem.

    Example:
        >>> writer = SaveDicomSeg("out", "unet_roi", "0.1.0")
        >>> writer.output_path("/data/a/1-1.dcm")  # doctest: +SKIP
        'out/1-1_seg.dcm'
    """

    def __init__(self, output_dir: str, algorithm_name: str, algorithm_version: str, data_root_dir: str = "",
                 output_postfix: str = "seg") -> None:  # fmt: skip
        self.algorithm = Algorithm(algorithm_name, algorithm_version)
        self.layout = FolderLayout(output_dir, postfix=output_postfix, extension=".dcm", parent=False,
                                   makedirs=False, data_root_dir=data_root_dir)  # fmt: skip

    def output_path(self, name: str) -> str:
        """Where the SEG of the prediction named ``name`` (a file path) goes."""
        return str(self.layout.filename(subject=str(name)))

    def __call__(self, img, source_path: str, name: str | None = None):
        """Write ``img``'s SEG over ``source_path``, to the file named after ``name`` (default: the source)."""
        arr = np.asarray(img.detach().cpu() if hasattr(img, "detach") else img)
        if arr.ndim == 3 and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim != 2:
            raise ValueError(f"{source_path}: expected a (1, W, H) or (W, H) prediction, got shape {arr.shape}.")
        write_dicom_seg(arr.T > 0.5, source_path, self.output_path(name or source_path), self.algorithm)
        return img


class SaveDicomSegd(MapTransform):
    """Dictionary twin of :class:`SaveDicomSeg` (same arguments after ``keys``): writes ``d[key]``'s SEG over the
    file ``d[source_key]`` was loaded from, named after ``d[key]``'s own ``filename_or_obj`` when it has one (the
    ROI mask it refines, after ``CopyFilenamed``), else after the source.

    Example (bundle post-processing, after ``Invertd`` and ``AsDiscreted``)::

        {"_target_": "monai_cbis.outputs.SaveDicomSegd", "keys": "pred", "source_key": "image",
         "output_dir": "@output_dir", "algorithm_name": "unet_roi", "algorithm_version": "0.1.0"}
    """

    def __init__(self, keys: KeysCollection, output_dir: str, algorithm_name: str, algorithm_version: str,
                 source_key: str = "image", data_root_dir: str = "", output_postfix: str = "seg",
                 allow_missing_keys: bool = False) -> None:  # fmt: skip
        super().__init__(keys, allow_missing_keys)
        self.source_key = source_key
        self.writer = SaveDicomSeg(output_dir, algorithm_name, algorithm_version, data_root_dir, output_postfix)

    def __call__(self, data: Mapping[Hashable, object]) -> dict:
        d = dict(data)
        source_path = source_file(d, self.source_key, "SaveDicomSegd", "SEG")
        for key in self.key_iterator(d):
            name = d[key].meta.get("filename_or_obj") if isinstance(d[key], MetaTensor) else None
            d[key] = self.writer(d[key], str(source_path), name=str(name or source_path))
        return d
