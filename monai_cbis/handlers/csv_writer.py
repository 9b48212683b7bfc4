"""A classifier's inference CSV, and the output transform that feeds ignite's multi-class metrics."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

from ignite.engine import Engine

from ..evaluation._engine import ReportHandlerBase, to_numpy
from ..evaluation.reports import write_csv

__all__ = ["ClassificationCSVWriter", "class_scores_and_indices"]


class ClassificationCSVWriter(ReportHandlerBase):
    """Write one CSV row per input image with the class probabilities and the predicted class (inference).

    Reads ``engine.state.output`` (per-item dicts after post-processing: ``pred`` must hold probabilities, e.g. after
    ``Activationsd(softmax=True)``) at every iteration and writes ``output_file`` atomically when the run completes,
    rows in the order seen. Columns: ``image``, ``prob_<class>`` for each class, ``predicted_class``,
    ``predicted_index``. File names come from the evaluation handlers' shared lifecycle (``image_key``'s metadata,
    else the batch's, else ``item_000000``...).

    Args:
        output_file: the CSV to write (its folder is created).
        class_names: one name per output channel, e.g. ``["benign", "malignant"]``.
        pred_key, image_key: keys of the output items (the file name is read from ``image_key``'s metadata).

    Example:
        >>> ClassificationCSVWriter("eval/inference/predictions.csv", ["benign", "malignant"]).attach(evaluator)
        ... # doctest: +SKIP
    """

    def __init__(
        self, output_file: str, class_names: Sequence[str], pred_key: str = "pred", image_key: str = "image"
    ) -> None:
        if not class_names:
            raise ValueError("class_names must name at least one class.")
        self.output_file, self.class_names, self.pred_key = output_file, list(class_names), pred_key
        output_dir = os.path.dirname(os.path.abspath(output_file))
        super().__init__(output_dir, (image_key,), save_rank=0, name=None, gather_across_ranks=False)

    def collect(self, item: Mapping, filename: str) -> None:
        if self.pred_key not in item:
            raise KeyError(
                f"ClassificationCSVWriter needs {self.pred_key!r} in the engine output; it has {sorted(item)}."
            )
        prob = to_numpy(item[self.pred_key]).astype(float).reshape(-1)
        if prob.size != len(self.class_names):
            raise ValueError(
                f"pred of {filename} has {prob.size} values, but class_names has {len(self.class_names)}: "
                f"{self.class_names}."
            )
        index = int(prob.argmax())
        row = {"image": filename}
        row.update({f"prob_{c}": round(float(p), 6) for c, p in zip(self.class_names, prob, strict=True)})
        row.update({"predicted_class": self.class_names[index], "predicted_index": index})
        self.rows.append(row)

    def completed(self, engine: Engine) -> None:
        columns = ["image", *[f"prob_{c}" for c in self.class_names], "predicted_class", "predicted_index"]
        os.makedirs(self.output_dir, exist_ok=True)
        write_csv(self.rows, columns, self.output_file)
        self.logger.info(f"Wrote {len(self.rows)} predictions to {self.output_file}")


def class_scores_and_indices(pred_key: str = "pred", label_key: str = "label") -> Callable:
    """An ``output_transform`` for ignite's multi-class metrics (``ignite.metrics.Accuracy``) on MONAI engines:
    stacks the per-item ``pred`` scores to ``(B, C)`` and turns ``label`` (index or one-hot) into indices ``(B,)``.

    Example (bundle config)::

        "val_accuracy": {"_target_": "ignite.metrics.Accuracy",
                         "output_transform": "$monai_cbis.handlers.class_scores_and_indices()"}
    """
    import torch

    def transform(output):
        rows = [output] if isinstance(output, dict) else list(output)
        preds = torch.stack([torch.as_tensor(r[pred_key]).reshape(-1).float() for r in rows])
        labels = [torch.as_tensor(r[label_key]).reshape(-1) for r in rows]
        y = torch.stack([lab.argmax() if lab.numel() > 1 else lab[0] for lab in labels]).long()
        return preds, y

    return transform
