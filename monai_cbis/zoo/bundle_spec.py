"""The :class:`BundleSpec` record: what one bundle differs in (its catalogue is :mod:`.specs`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .families import get_family
from .levels import get_level

__all__ = ["BundleSpec", "PUBLISHED_KEYS"]

#: The keys of :attr:`BundleSpec.published`, in order.
PUBLISHED_KEYS = ("paper", "metric", "setting", "figures", "figures_from_scratch", "note")


@dataclass(frozen=True)
class BundleSpec:
    """One bundle: its identity, texts for ``metadata.json``, and the values its configs differ in.

    ``family`` and ``level`` are checked on creation (:func:`~monai_cbis.zoo.families.get_family`,
    :func:`~monai_cbis.zoo.levels.get_level`). ``published`` is the published figure this bundle reproduces, or
    None: ``{"paper": "A" | "B", "metric": <label>, "setting": <text>, "figures": {<metrics.json key>: value},
    "figures_from_scratch": {<metrics.json key>: value} (or {}), "note": <text>}``; ``evaluate.json`` hands it to
    the report handler (``paper_reference``) and ``metadata.json`` records it (``published_reference``).
    ``extra_packages`` are names of packages whose installed versions ``metadata.json`` records besides the shared
    ones (:mod:`.versions`).
    """

    name: str
    family: str  #: a key of :data:`~monai_cbis.zoo.families.FAMILIES`: "segmentation" | "classification" | "detection"
    title: str
    task_text: str
    description: str
    image_classes: str
    label_classes: str
    pred_classes: str
    references: tuple[str, ...]
    network: dict  #: network_def without "pretrained"
    pretrainable: bool
    preset: str
    preset_args: dict
    inference_preset_args: dict
    level: str  #: "image" (one item per film) or "abnormality" (one per CSV row), as in monai_cbis.data.datalist
    task: str
    image_size: int
    input_channels: int
    input_range: tuple
    learning_rate: float
    epochs: int
    batch_size: int
    early_stop_patience: int
    lr_patience: int
    channels_last: bool = False  #: train.json / inference.json's default ``channels_last`` (NHWC network weights)
    lr_schedule: str = "plateau"  #: train.json's default ``lr_schedule`` (monai_cbis.optim.lr_scheduler's names)
    loss: dict = field(default_factory=dict)  #: empty: the family's loss
    extra_params: dict = field(default_factory=dict)  #: top-level parameters of train.json and inference.json
    item_keys: tuple[str, ...] = ("image", "label")
    find_unused_parameters: bool = False
    extra_packages: tuple[str, ...] = ()
    version: str = "0.1.0"
    changelog: tuple = ()
    published: dict | None = None

    def __post_init__(self):
        get_family(self.family)
        get_level(self.level)
        if self.published is not None and tuple(self.published) != PUBLISHED_KEYS:
            raise ValueError(
                f"Bundle {self.name!r}: published has keys {list(self.published)}, expected {list(PUBLISHED_KEYS)}."
            )

    def network_def(self, pretrained: object) -> dict:
        """The ``network_def`` config; ``pretrained`` is added for a network that can load ImageNet weights."""
        net = dict(self.network)
        if self.pretrainable:
            net["pretrained"] = pretrained
        return net

    def preset_config(self, **extra) -> dict:
        """The ``preset`` config (:func:`monai_cbis.transforms.get_preset`) with this bundle's arguments."""
        return {"_target_": "monai_cbis.transforms.get_preset", "name": self.preset, **self.preset_args, **extra}
