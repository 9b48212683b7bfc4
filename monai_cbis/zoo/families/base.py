"""The :class:`BundleFamily` record every family fills in, and the config pieces several families share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..levels import ItemLevel
    from ..specs import BundleSpec

__all__ = ["BundleFamily", "lesion_rows_config", "sliding_window", "PRED_LABEL"]

PRED_LABEL = "$monai.handlers.from_engine(['pred', 'label'])"


def sliding_window(roi_size: str) -> dict:
    """MONAI's ``SlidingWindowInferer`` over a whole film with windows of ``roi_size`` (a reference) and the
    window batch, overlap and blending as the parameters ``sw_batch_size``, ``sw_overlap`` and ``sw_mode``."""
    return {
        "_target_": "SlidingWindowInferer",
        "roi_size": roi_size,
        "sw_batch_size": "@sw_batch_size",
        "overlap": "@sw_overlap",
        "mode": "@sw_mode",
    }


def _square_size(spec: BundleSpec) -> dict:
    return {"image_size": [spec.image_size, spec.image_size]}


def _square_shape(spec: BundleSpec) -> list:
    return [spec.image_size, spec.image_size]


def _no_components(spec: BundleSpec) -> dict:
    return {}


@dataclass(frozen=True)
class BundleFamily:
    """One bundle family: the config pieces its bundles share and the other families do not.

    Attributes:
        name: the family's name, what :attr:`BundleSpec.family <monai_cbis.zoo.specs.BundleSpec.family>` holds.
        metrics: validation metric name -> metric handler config; the first is the default ``key_metric``.
        validation_postprocessing: transforms between the network and the metrics (validation and evaluation).
        report_handler: the evaluation report handler (``evaluate.json`` adds ``model_name`` and the published
            reference of the bundle's spec).
        report_level_args: ``level -> dict``, what the report handler adds for an item level (the segmentation
            report's lesion rows and how items tie to them); None adds nothing.
        items_target: what an abnormality-level item is scored against (``lesion_items``' ``target``).
        pred_output: ``spec -> dict``, the ``pred`` entry of ``metadata.json``'s ``network_data_format`` outputs.
        eval_metrics: the report's headline metrics, listed in ``metadata.json``.
        inference_postprocessing: ``(spec, level) -> list``, the transforms after the network in ``inference.json``
            (including any that write outputs).
        items_extra: arguments added to every items config (classification: ``num_classes``).
        loss: the family's loss config; None: every bundle's spec gives its own (``BundleSpec.loss``).
        optimizer_params: the expression for the optimizer's parameters.
        train_sampler: the training sampler config, or None to shuffle. A family sampler must take
            ``distributed=True`` under ``torchrun``; without one, multi-GPU training uses MONAI's
            ``DistributedSampler``.
        inference_handlers: handlers ``inference.json`` adds after the checkpoint loader and stats (output writers).
        size_params: ``spec -> dict``, the working-size parameters of train.json and inference.json (default
            ``image_size: [s, s]``).
        input_shape: ``spec -> list``, ``spatial_shape`` of the input in ``metadata.json``.
        input_is_patch: the network sees patches of the film (``is_patch_data`` of the input in ``metadata.json``).
        components: ``spec -> dict``, top-level components after ``network`` (the detector around it).
        trainer_target, evaluator_target: the engines' ``_target_``; engine_args: arguments added to the trainer and
            every evaluator (e.g. ``detector``).
        inferer: the inferer config of training, validation and inference.
        validation_inferer: the inferer config of validation, evaluation and inference when it differs from
            training's (a sliding window over the whole film for a network trained on patches); None: ``inferer``.
        validation_batch_size: the validation (and evaluation) loader's batch size: ``"@batch_size"``, or 1 where
            the evaluated films keep their own sizes.
        collate_fn: the data loaders' ``collate_fn`` (None: PyTorch's default collation).
        items_filter: a screening step after ``readable_items`` in training and validation (called with ``items``,
            ``transform``, ``cache_dir`` and ``skipped``), or None.
        output_formats: the values of ``inference.json``'s ``output_format`` (the first is the default), which
            its post-processing and handlers switch on with ``_disabled_``; a DICOM one (``dicom_seg``,
            ``dicom_sr``) needs DICOM inputs (:func:`monai_cbis.outputs.inputs_for_output_format`). Empty: the
            family writes one kind of output and has no ``output_format``.
        breast_gate: the post-processing step that removes this family's findings outside the breast
            (:class:`~monai_cbis.transforms.GateByBreastd` or :class:`~monai_cbis.transforms.GateBoxesByBreastd`),
            used where the item level sees whole films (``ItemLevel.breast_gate``), switched by ``gate_by_breast``;
            None: the family has no such step (:func:`breast_gate_step`).
        extra_packages: packages the family's configs import besides the shared ones, recorded in
            ``metadata.json`` (highdicom for the DICOM outputs).
        original_geometry: ``spec -> list``, the evaluation post-processing steps that move the prediction and the
            ground truth onto the original film, each switched on by ``eval_geometry original`` (``_disabled_``
            otherwise); ``evaluate.json`` adds them, the ``eval_geometry`` parameter (default ``"working"``) and the
            report handler's ``geometry`` where the item level is whole films (``ItemLevel.film_geometry``). None:
            the family scores at its working grid only.
        film_inferer: the inferer that runs a network trained on crops over whole films (``evaluate_films.json``,
            where the bundle's item level is cut from films: ``ItemLevel.films``); None: the family has no
            whole-film evaluation of crop-trained networks.
        report_kind: the kind of report its report handler writes (:data:`monai_cbis.evaluation.references.KINDS`)
            when it is not the family's name (a patch-trained segmenter writes a segmentation report); see
            :attr:`kind`.
    """

    name: str
    metrics: Mapping[str, dict]
    validation_postprocessing: tuple[dict, ...]
    report_handler: dict
    items_target: str
    pred_output: Callable[[BundleSpec], dict]
    eval_metrics: tuple[str, ...]
    inference_postprocessing: Callable[[BundleSpec, ItemLevel], list[dict]]
    items_extra: Mapping[str, object] = field(default_factory=dict)
    loss: dict | None = None
    optimizer_params: str = "$@network.parameters()"
    train_sampler: dict | None = None
    inference_handlers: tuple[dict, ...] = ()
    report_level_args: Callable[[ItemLevel], dict] | None = None
    size_params: Callable[[BundleSpec], dict] = _square_size
    input_shape: Callable[[BundleSpec], list] = _square_shape
    input_is_patch: bool = False
    components: Callable[[BundleSpec], dict] = _no_components
    trainer_target: str = "SupervisedTrainer"
    evaluator_target: str = "SupervisedEvaluator"
    engine_args: Mapping[str, object] = field(default_factory=dict)
    inferer: Mapping[str, object] = field(default_factory=lambda: {"_target_": "SimpleInferer"})
    validation_inferer: Mapping[str, object] | None = None
    validation_batch_size: int | str = "@batch_size"
    collate_fn: str | None = None
    items_filter: Mapping[str, object] | None = None
    output_formats: tuple[str, ...] = ()
    extra_packages: tuple[str, ...] = ()
    breast_gate: dict | None = None
    report_kind: str | None = None
    original_geometry: Callable[[BundleSpec], list[dict]] | None = None
    film_inferer: Mapping[str, object] | None = None

    def __post_init__(self):
        if not self.metrics:
            raise ValueError(f"Bundle family {self.name!r} needs at least one validation metric (its key metric).")

    @property
    def kind(self) -> str:
        """The kind of report the family's bundles write: :attr:`report_kind`, else the family's name."""
        return self.report_kind or self.name

    @property
    def evaluation_inferer(self) -> dict:
        """The inferer config of validation, evaluation and inference (:attr:`validation_inferer` or
        :attr:`inferer`)."""
        return dict(self.validation_inferer if self.validation_inferer is not None else self.inferer)

    @property
    def key_metric(self) -> str:
        """The default ``key_metric`` of train.json (checkpoint, early stopping, learning-rate plateau)."""
        return next(iter(self.metrics))

    @property
    def metric_names(self) -> list[str]:
        """Every validation metric's name, key metric first."""
        return list(self.metrics)

    def loss_config(self, spec: BundleSpec) -> dict:
        """The bundle's loss: its spec's own, else the family's.

        Raises:
            ValueError: neither the spec nor the family gives a loss.
        """
        if spec.loss:
            return dict(spec.loss)
        if self.loss is None:
            raise ValueError(
                f"Bundle {spec.name!r} of family {self.name!r} needs a loss in its spec (BundleSpec.loss)."
            )
        return dict(self.loss)


def lesion_rows_config() -> dict:
    """The evaluated section's abnormality-level rows (one per CSV lesion: woman, type, pathology, density,
    subtlety), which a lesion-level report handler looks each lesion up in (``lesions=``); same index and split as
    the evaluated items."""
    return {
        "_target_": "monai_cbis.data.items.section_items",
        "dataset_dir": "@data_root",
        "section": "@validate#section_items#section",
        "task": "@task",
        "level": "abnormality",
        "split": "@split",
        "seed": "@seed",
        "val_frac": "@val_frac",
    }
