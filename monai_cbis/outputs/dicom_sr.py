"""DICOM Structured Report (TID 1500 measurement report) of detected lesion boxes on a mammogram.

A detector's boxes, with their scores and labels, as a *Comprehensive 3D SR* that references the film they were
found on (:func:`detection_report`; :func:`write_detection_sr` writes it atomically, :func:`read_detection_sr` gives
the boxes back). One *Planar ROI Measurements* group (TID 1410) per box:

* the region: a closed 2-D ``SCOORD`` ``POLYLINE`` of the box's four corners on the source image (its SOP Instance
  UID), in DICOM's image coordinates: ``(column, row)`` with ``(0, 0)`` the top-left corner of the top-left pixel.
  Boxes come in MONAI's ``StandardMode`` (``[x_min, y_min, x_max, y_max]``, x = column, exclusive maxima:
  :mod:`monai_cbis.transforms.boxes`), which are exactly those pixel-edge coordinates, so a box reads back equal;
* the finding type, from the label's name: ``mass`` (SCT 4147007 *Mass*), ``calcification`` (SCT 129748009
  *Radiographic calcification finding*), ``lesion`` and anything else known as a lesion (SCT 52988006 *Lesion*);
  a name outside these is kept in a private coding scheme (``99MONAICBIS``) so that it reads back;
* the score as a measurement *Certainty of Finding* (DCM 111012, mammography CAD's term), unit ``1``;
* the algorithm (bundle name and version) as the group's algorithm identification, and the bundle as the report's
  observer device.

An image with no detection gets a report all the same ("nothing found" is a result too): TID 1500 needs one
measurement group, so it holds one without a region whose *CAD Processing and Findings Summary* (DCM 111017) is
*All algorithms succeeded; without findings* (DCM 111242), as in mammography CAD reports.

Example:
    >>> from pydicom.dataset import Dataset
    >>> src = Dataset()
    >>> src.update({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.7", "SOPInstanceUID": "1.2.3.4", "Modality": "MG",
    ...             "StudyInstanceUID": "1.2.3.5", "SeriesInstanceUID": "1.2.3.6", "Rows": 60, "Columns": 40,
    ...             "PatientID": "P_00001", "PatientName": "P_00001^", "PatientBirthDate": "", "PatientSex": "",
    ...             "StudyDate": "", "StudyTime": "", "StudyID": "", "AccessionNumber": "",
    ...             "ReferringPhysicianName": ""})
    >>> sr = detection_report(src, [[5, 10, 15, 30]], [0.9], ["mass"], Algorithm("retinanet_detection", "0.1.0"))
    >>> detections_from_report(sr)
    [{'box': [5.0, 10.0, 15.0, 30.0], 'score': 0.9, 'label': 'mass'}]
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from monai.config import KeysCollection
from monai.data import FolderLayout
from monai.transforms import MapTransform

from .dicom_source import Algorithm, derived_uid, quiet_highdicom, read_source, save_dicom, source_file

__all__ = [
    "PRIVATE_SCHEME",
    "SaveDicomSRd",
    "detection_report",
    "detections_from_report",
    "read_detection_sr",
    "write_detection_sr",
]

#: Coding scheme of label names that have no standard finding-type code here (kept so that they read back).
PRIVATE_SCHEME = "99MONAICBIS"
#: SeriesNumber of the written SR series (apart from the source's and the SEG's).
_SERIES_NUMBER = 902
#: label name -> (SCT code, meaning) of the finding type.
_FINDING_TYPES = {
    "lesion": ("52988006", "Lesion"),
    "mass": ("4147007", "Mass"),
    "calcification": ("129748009", "Radiographic calcification finding"),
}


def _finding_type(name: str):
    from highdicom.sr import CodedConcept

    key = name.strip().lower()
    if key in _FINDING_TYPES:
        value, meaning = _FINDING_TYPES[key]
        return CodedConcept(value, "SCT", meaning)
    return CodedConcept(key.upper()[:16] or "UNNAMED", PRIVATE_SCHEME, name)


def _label_name(concept) -> str:
    if concept.scheme_designator == PRIVATE_SCHEME:
        return str(concept.meaning)
    for name, (value, _) in _FINDING_TYPES.items():
        if concept.scheme_designator == "SCT" and concept.value == value:
            return name
    return str(concept.meaning)


def _checked_boxes(boxes, scores, labels, rows: int, cols: int, where: str) -> tuple[np.ndarray, np.ndarray, list]:
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) if len(boxes) else np.zeros((0, 4))
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = list(labels)
    if not (len(boxes) == len(scores) == len(labels)):
        raise ValueError(f"{where}: {len(boxes)} boxes, {len(scores)} scores and {len(labels)} labels; one each.")
    if not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
        raise ValueError(f"{where}: boxes and scores must be finite numbers.")
    clipped = boxes.copy()  # a detector's box may overshoot the film by a fraction of a pixel
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0, cols)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0, rows)
    empty = np.flatnonzero((clipped[:, 2] <= clipped[:, 0]) | (clipped[:, 3] <= clipped[:, 1]))
    if empty.size:
        i = int(empty[0])
        raise ValueError(
            f"{where}: box {i} {boxes[i].tolist()} covers no part of the {rows} x {cols} (rows x columns) image; "
            "boxes are [x_min, y_min, x_max, y_max] in the source film's pixels (x = column)."
        )
    return clipped, scores, labels


def _no_findings(algorithm_id, source, algorithm: Algorithm):
    """TID 1500 needs at least one measurement group: with no box, one (TID 1501) whose qualitative evaluation is
    mammography CAD's *CAD Processing and Findings Summary* (DCM 111017) = *All algorithms succeeded; without
    findings* (DCM 111242)."""
    import highdicom as hd
    from highdicom.sr import CodedConcept

    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=derived_uid(source.SOPInstanceUID, algorithm.name, algorithm.version, "no findings"),
            identifier="no detection",
        ),
        algorithm_id=algorithm_id,
        qualitative_evaluations=[
            hd.sr.QualitativeEvaluation(
                name=CodedConcept("111017", "DCM", "CAD Processing and Findings Summary"),
                value=CodedConcept("111242", "DCM", "All algorithms succeeded; without findings"),
            )
        ],
    )


def detection_report(source, boxes, scores, labels, algorithm: Algorithm, label_names: Sequence[str] | None = None):
    """A TID 1500 measurement report (``highdicom.sr.Comprehensive3DSR``) of boxes on ``source``.

    Args:
        source: the source image's header (:func:`~monai_cbis.outputs.dicom_source.read_source`).
        boxes: ``(N, 4)`` ``[x_min, y_min, x_max, y_max]`` in the source's pixels (MONAI ``StandardMode``, x =
            column); clipped to the image.
        scores: ``(N,)`` detection scores (0..1).
        labels: ``(N,)`` label names, or class indices into ``label_names``.
        algorithm: the bundle that detected them.
        label_names: names of the class indices (``["mass", "calcification"]``); None when labels are names.

    Raises:
        ValueError: the lengths differ, a value is not finite, a box covers no part of the image, or a class index
            has no name.
    """
    import highdicom as hd
    from highdicom.sr import CodedConcept

    where = str(source.get("SOPInstanceUID", "source"))
    boxes, scores, labels = _checked_boxes(boxes, scores, labels, int(source.Rows), int(source.Columns), where)
    names = []
    for label in labels:
        if isinstance(label, str):
            names.append(label)
        elif label_names is not None and 0 <= int(label) < len(label_names):
            names.append(str(label_names[int(label)]))
        else:
            raise ValueError(f"{where}: label {label!r} is not a name and has none in label_names={label_names}.")
    algorithm_id = hd.sr.AlgorithmIdentification(name=algorithm.name, version=algorithm.version)
    region_source = hd.sr.SourceImageForRegion.from_source_image(source)
    key = hashlib.sha256(json.dumps([boxes.tolist(), scores.tolist(), names]).encode()).hexdigest()
    groups = []
    for i, ((x0, y0, x1, y1), score, name) in enumerate(zip(boxes, scores, names, strict=True)):
        corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]], dtype=np.float64)
        groups.append(
            hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(
                    uid=derived_uid(source.SOPInstanceUID, algorithm.name, algorithm.version, key, i),
                    identifier=f"detection {i + 1}: {name}"[:64],
                ),
                referenced_region=hd.sr.ImageRegion(
                    graphic_type=hd.sr.GraphicTypeValues.POLYLINE, graphic_data=corners, source_image=region_source
                ),
                finding_type=_finding_type(name),
                algorithm_id=algorithm_id,
                measurements=[
                    hd.sr.Measurement(
                        name=CodedConcept("111012", "DCM", "Certainty of Finding"),
                        value=float(score),
                        unit=CodedConcept("1", "UCUM", "no units"),
                        algorithm_id=algorithm_id,
                    )
                ],
            )
        )
    observer = hd.sr.ObserverContext(
        observer_type=CodedConcept("121007", "DCM", "Device"),
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=derived_uid(algorithm.name, algorithm.version, "device"),
            name=algorithm.name,
            manufacturer_name=algorithm.manufacturer,
            model_name=algorithm.name,
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=CodedConcept("71651007", "SCT", "Mammography"),
        imaging_measurements=groups or [_no_findings(algorithm_id, source, algorithm)],
        title=CodedConcept("126000", "DCM", "Imaging Measurement Report"),
    )
    with quiet_highdicom():
        sr = hd.sr.Comprehensive3DSR(
            evidence=[source],
            content=report,
            series_instance_uid=derived_uid(source.SOPInstanceUID, algorithm.name, algorithm.version, key, "series"),
            series_number=_SERIES_NUMBER,
            sop_instance_uid=derived_uid(source.SOPInstanceUID, algorithm.name, algorithm.version, key, "instance"),
            instance_number=1,
            manufacturer=algorithm.manufacturer,
        )
    sr.SeriesDescription = f"{algorithm.name} {algorithm.version} detections"[:64]
    sr.SoftwareVersions = algorithm.software_versions
    return sr


def detections_from_report(sr) -> list[dict]:
    """The boxes of a report written by :func:`detection_report`: ``[{"box", "score", "label"}]`` in its order,
    ``box`` as ``[x_min, y_min, x_max, y_max]`` in the source's pixels (the bounding box of each region)."""
    import highdicom as hd
    import pydicom

    content = getattr(sr, "content", None)
    if not isinstance(content, hd.sr.MeasurementReport):  # a report just built, or a dataset read from a file
        if isinstance(sr, hd.sr.Comprehensive3DSR):  # through its bytes: highdicom 0.22 cannot deep-copy its own
            buf = io.BytesIO()
            sr.save_as(buf)
            sr = pydicom.dcmread(io.BytesIO(buf.getvalue()))
            sr.filename = None  # pydicom 2.4 warns when copying a dataset read from a file-like object
        content = hd.sr.Comprehensive3DSR.from_dataset(sr).content
    out = []
    for group in content.get_planar_roi_measurement_groups():
        points = np.asarray(group.roi.value, dtype=np.float64).reshape(-1, 2)
        measurements = group.get_measurements(name=hd.sr.CodedConcept("111012", "DCM", "Certainty of Finding"))
        out.append(
            {
                "box": [float(v) for v in (*points.min(axis=0), *points.max(axis=0))],
                "score": float(measurements[0].value) if measurements else float("nan"),
                "label": _label_name(group.finding_type),
            }
        )
    return out


def write_detection_sr(boxes, scores, labels, source_path: str | os.PathLike, output_path: str | os.PathLike,
                       algorithm: Algorithm, label_names: Sequence[str] | None = None) -> str:  # fmt: skip
    """Write the report of boxes found on the DICOM image ``source_path`` to ``output_path`` atomically; returns
    the path. Arguments as :func:`detection_report`.

    Raises:
        NotADicomSourceError: ``source_path`` is not a DICOM image an SR can reference (the message says why).
        ValueError: as :func:`detection_report`, naming the source file.
    """
    source = read_source(source_path)
    try:
        sr = detection_report(source, boxes, scores, labels, algorithm, label_names)
    except ValueError as e:
        raise ValueError(f"{source_path}: {e}") from e
    return save_dicom(sr, output_path)


def read_detection_sr(path: str | os.PathLike) -> list[dict]:
    """:func:`detections_from_report` of the SR file ``path``."""
    import pydicom

    return detections_from_report(pydicom.dcmread(str(path)))


def _numpy(value) -> np.ndarray:
    return np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)


class SaveDicomSRd(MapTransform):
    """Write each item's detections as a DICOM SR (:func:`write_detection_sr`) over the file ``source_key`` was
    loaded from; the item goes on unchanged. Files are named as the SEG writer names its (MONAI's
    ``FolderLayout``: the source's path under ``data_root_dir`` mirrored under ``output_dir``), ending
    ``_<output_postfix>.dcm``: ``out/a/1-1_sr.dcm`` beside ``out/a/1-1.json``.

    Args:
        keys: the key of the boxes (``[x_min, y_min, x_max, y_max]`` in the source film's pixels, as
            ``ImageToOriginalBoxd`` leaves them).
        output_dir: the folder the files go under.
        algorithm_name, algorithm_version: the bundle's name and version.
        class_names: the name of each class index (``["mass", "calcification"]``).
        label_key, score_key: the keys of the class indices and scores.
        source_key: the key whose ``filename_or_obj`` is the source film.
        data_root_dir: the part of the source's path not mirrored under ``output_dir``.
        output_postfix: appended to each file's stem.

    Example (detection post-processing, after the boxes are back on the film)::

        {"_target_": "monai_cbis.outputs.SaveDicomSRd", "keys": "box", "output_dir": "@output_dir",
         "algorithm_name": "retinanet_detection", "algorithm_version": "0.1.0",
         "class_names": ["mass", "calcification"]}
    """

    def __init__(self, keys: KeysCollection, output_dir: str, algorithm_name: str, algorithm_version: str,
                 class_names: Sequence[str], label_key: str = "label", score_key: str = "label_scores",
                 source_key: str = "image", data_root_dir: str = "", output_postfix: str = "sr",
                 allow_missing_keys: bool = False) -> None:  # fmt: skip
        super().__init__(keys, allow_missing_keys)
        self.algorithm = Algorithm(algorithm_name, algorithm_version)
        self.class_names = list(class_names)
        self.label_key, self.score_key, self.source_key = label_key, score_key, source_key
        self.layout = FolderLayout(output_dir, postfix=output_postfix, extension=".dcm", parent=False,
                                   makedirs=False, data_root_dir=data_root_dir)  # fmt: skip

    def __call__(self, data: Mapping[Hashable, object]) -> dict:
        d = dict(data)
        source_path = source_file(d, self.source_key, "SaveDicomSRd", "SR")
        for key in self.key_iterator(d):
            missing = [k for k in (self.label_key, self.score_key) if k not in d]
            if missing:
                raise KeyError(f"SaveDicomSRd needs {missing} beside {key!r} for {source_path}; it has {sorted(d)}.")
            boxes = _numpy(d[key]).astype(np.float64).reshape(-1, 4)
            labels = [int(v) for v in _numpy(d[self.label_key]).reshape(-1)]
            scores = _numpy(d[self.score_key]).astype(np.float64).reshape(-1)
            out = str(self.layout.filename(subject=str(source_path)))
            write_detection_sr(boxes, scores, labels, str(source_path), out, self.algorithm, self.class_names)
        return d
