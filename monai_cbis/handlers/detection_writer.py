"""A detector's inference outputs: per image, a JSON of boxes with scores and labels in the original film's pixel
coordinates, and an overlay PNG of those boxes on the film.

The engine output items must hold the boxes already mapped back onto the film (``FlattenDictd("pred")`` then
``ImageToOriginalBoxd("box")`` in the inference post-processing). Files are named after the input's path below
``data_root`` (so ``a/1-1.dcm`` and ``b/1-1.dcm`` do not collide) and written atomically, one image at a time, so a
run stopped halfway keeps every file it finished.

JSON layout::

    {"image": "<input file>", "coordinates": "...", "image_size": [columns, rows],
     "boxes": [{"box": [x_min, y_min, x_max, y_max], "score": 0.91, "label": 0, "label_name": "mass"}, ...]}
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import cv2
import numpy as np
from ignite.engine import Engine

from ..atomic import atomic_write, atomic_write_json
from ..evaluation._engine import ReportHandlerBase, to_numpy

__all__ = ["DetectionWriter", "COORDINATES"]

#: How the JSON's boxes are to be read.
COORDINATES = (
    "original image pixels: x = column, y = row, [x_min, y_min, x_max, y_max] with pixel i spanning [i, i + 1)"
)


def _overlay(path: str, boxes: np.ndarray, scores: np.ndarray, names: Sequence[str], long_side: int) -> bytes:
    from ..transforms.io import CBISImageReader
    from ..transforms.resample import resample_2d

    pixels = np.asarray(CBISImageReader().read(path).pixels, np.float32)  # (rows, columns)
    scale = min(1.0, long_side / max(pixels.shape))
    size = (max(1, round(pixels.shape[0] * scale)), max(1, round(pixels.shape[1] * scale)))
    small = resample_2d(pixels, size) if scale < 1.0 else pixels
    lo, hi = float(small.min()), float(small.max())
    grey = np.zeros(small.shape, np.uint8) if hi <= lo else ((small - lo) * (255.0 / (hi - lo))).astype(np.uint8)
    rgb = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    for box, score, name in zip(boxes, scores, names, strict=True):
        x0, y0, x1, y1 = (int(round(v * scale)) for v in box)
        cv2.rectangle(rgb, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), (0, 0, 255), 2)
        cv2.putText(rgb, f"{name} {score:.2f}", (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 255), 1)
    ok, buf = cv2.imencode(".png", rgb)
    if not ok:
        raise RuntimeError(f"OpenCV could not encode the overlay of {path} as PNG.")
    return buf.tobytes()


class DetectionWriter(ReportHandlerBase):
    """Write ``<output_dir>/<input path below data_root>.json`` and ``.png`` for every image (see the module doc).

    Args:
        output_dir: the folder the outputs go to.
        data_root: the folder whose tree the outputs mirror (inputs outside it keep their base name).
        class_names: a name per class index (e.g. ``["mass", "calcification"]``).
        box_key, label_key, score_key, image_key: keys of the engine output items.
        overlay_long_side: the overlay's longest side in pixels (0: no overlay).

    Example:
        >>> w = DetectionWriter("eval/inference", "/data/films", ["mass", "calcification"])
        >>> w.relative_name("/data/films/a/1-1.dcm")
        'a/1-1'
    """

    def __init__(
        self,
        output_dir: str,
        data_root: str,
        class_names: Sequence[str],
        box_key: str = "box",
        label_key: str = "label",
        score_key: str = "label_scores",
        image_key: str = "image",
        overlay_long_side: int = 1024,
    ) -> None:
        self.data_root = os.path.abspath(data_root) if data_root else ""
        self.class_names = list(class_names)
        self.box_key, self.label_key, self.score_key = box_key, label_key, score_key
        self.overlay_long_side = int(overlay_long_side)
        self.written: list[str] = []
        super().__init__(output_dir, (image_key,), save_rank=0, name=None, gather_across_ranks=False)

    def relative_name(self, path: str) -> str:
        """The output name of ``path`` (no extension), below :attr:`data_root` when it lies there."""
        full = os.path.abspath(path)
        rel = os.path.relpath(full, self.data_root) if self.data_root else os.path.basename(full)
        if rel.startswith(".."):
            rel = os.path.basename(full)
        return os.path.splitext(rel)[0]

    def collect(self, item: Mapping, filename: str) -> None:
        missing = [k for k in (self.box_key, self.label_key, self.score_key) if k not in item]
        if missing:
            raise KeyError(
                f"DetectionWriter needs {missing} in the engine output of {filename}; it has {sorted(item)}."
            )
        boxes = to_numpy(item[self.box_key]).astype(np.float64).reshape(-1, 4)
        labels = to_numpy(item[self.label_key]).astype(np.int64).reshape(-1)
        scores = to_numpy(item[self.score_key]).astype(np.float64).reshape(-1)
        names = [self.class_names[i] if 0 <= i < len(self.class_names) else str(i) for i in labels]
        base = os.path.join(self.output_dir, self.relative_name(filename))
        os.makedirs(os.path.dirname(base), exist_ok=True)
        record = {
            "image": filename,
            "coordinates": COORDINATES,
            "boxes": [
                {
                    "box": [round(float(v), 2) for v in b],
                    "score": round(float(s), 5),
                    "label": int(lab),
                    "label_name": n,
                }
                for b, s, lab, n in zip(boxes, scores, labels, names, strict=True)
            ],
        }
        atomic_write_json(record, base + ".json")
        if self.overlay_long_side > 0 and os.path.isfile(filename):
            png = _overlay(filename, boxes, scores, names, self.overlay_long_side)
            atomic_write(base + ".png", lambda f: f.write(png), mode="wb")
        self.written.append(base + ".json")

    def completed(self, engine: Engine) -> None:
        self.logger.info(f"Wrote boxes of {len(self.written)} image(s) to {self.output_dir}")
