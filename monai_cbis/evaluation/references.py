"""Published reference figures: their shape, and where the report finds the one of a model.

The figures themselves live with each bundle's spec (``monai_cbis.zoo.specs.SPECS[name].published``), not here: a
new bundle brings its own. A reference is a plain dict (what the evaluate configs pass to the report handlers as
``paper_reference=`` and what they write under ``"paper_reference"`` in ``metrics.json``)::

    {"paper": "A" | "B", "metric": "<human label>", "setting": "<text>",
     "figures": {<metrics.json key>: value, ...}, "figures_from_scratch": {<key>: value} or {}, "note": "<text>"}

``figures`` name the keys of this project's ``metrics.json`` they compare with (e.g. ``lesion_dice``), so a table
can put each published number beside the score it matches. Published numbers are context, not results of a run.

Where a model's reference comes from (:func:`paper_reference`): the ``"paper_reference"`` of its ``metrics.json``
when it has this shape, else the spec of the bundle of that name (``<name>`` or ``<name>_<kind>``, in lower case,
of the same kind), else None.

Example:
    >>> ref = {"paper": "B", "metric": "test accuracy", "figures": {"accuracy": 0.77}}
    >>> check_paper_reference(ref)["figures_from_scratch"]
    {}
    >>> paper_reference("my_net", "classification", metrics={"paper_reference": ref})["figures"]
    {'accuracy': 0.77}
    >>> is_paper_reference({"paper_A_mean_dice_incl_background": 0.968})  # an older metrics.json: not this shape
    False
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

__all__ = [
    "KINDS",
    "REFERENCE_KEYS",
    "check_paper_reference",
    "is_paper_reference",
    "spec_reference",
    "paper_reference",
    "published_references",
    "resolve_paper_reference",
    "deprecated_table",
]

#: The report kinds: the ``family`` of a bundle spec, and the kinds of report the comparison reads.
KINDS = ("segmentation", "classification", "detection")

#: The keys of a reference, in order; ``setting``, ``figures_from_scratch`` and ``note`` may be left out.
REFERENCE_KEYS = ("paper", "metric", "setting", "figures", "figures_from_scratch", "note")
_REQUIRED = ("paper", "metric", "figures")
_DEFAULTS = {"setting": "", "figures_from_scratch": {}, "note": ""}


def _figures(value, what: str) -> dict:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is {value!r}, expected a mapping of metrics.json keys to published numbers.")
    for k, v in value.items():
        if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"{what} has {k!r}: {v!r}, expected a metrics.json key (text) and a finite number.")
    return dict(value)


def check_paper_reference(ref: Mapping) -> dict:
    """Check a reference's shape and return it as a plain dict with every key of :data:`REFERENCE_KEYS`.

    Raises:
        ValueError: not a mapping, a missing or unknown key, empty ``figures``, or a figure that is not a number.

    Example:
        >>> check_paper_reference({"paper": "A", "figures": {"mean_dice_incl_background": 0.968}})
        Traceback (most recent call last):
        ...
        ValueError: paper_reference lacks 'metric': expected the keys ['paper', 'metric', 'figures'] ...
    """
    if not isinstance(ref, Mapping):
        raise ValueError(f"paper_reference is {ref!r}, expected a dict with the keys {list(REFERENCE_KEYS)}.")
    for key in _REQUIRED:
        if key not in ref:
            raise ValueError(
                f"paper_reference lacks {key!r}: expected the keys {list(_REQUIRED)} (and optionally "
                f"{list(_DEFAULTS)}), got {sorted(ref)}."
            )
    unknown = sorted(set(ref) - set(REFERENCE_KEYS))
    if unknown:
        raise ValueError(f"paper_reference has unknown keys {unknown}, available options are {list(REFERENCE_KEYS)}.")
    out = {**_DEFAULTS, **ref}
    for key in ("paper", "metric", "setting", "note"):
        if not isinstance(out[key], str):
            raise ValueError(f"paper_reference[{key!r}] is {out[key]!r}, expected text.")
    out["figures"] = _figures(out["figures"], "paper_reference['figures']")
    if not out["figures"]:
        raise ValueError("paper_reference['figures'] is empty, expected at least one published number.")
    out["figures_from_scratch"] = _figures(out["figures_from_scratch"], "paper_reference['figures_from_scratch']")
    return {k: out[k] for k in REFERENCE_KEYS}


def is_paper_reference(obj) -> bool:
    """Whether ``obj`` is a reference of the shape above (older ``metrics.json`` files hold other dicts).

    Example:
        >>> is_paper_reference({"paper": "B", "metric": "lesion Dice / IoU", "figures": {"lesion_dice": 0.84}})
        True
    """
    try:
        check_paper_reference(obj)
    except ValueError:
        return False
    return True


def _kind_of(spec) -> str:
    """The report kind of ``spec``'s family (a family may write another family's kind of report: a patch-trained
    segmenter writes a segmentation report)."""
    from monai_cbis.zoo.families import FAMILIES  # lazily, as _specs

    family = getattr(spec, "family", None)
    name = str(getattr(family, "name", family))
    return FAMILIES[name].kind if name in FAMILIES else name


def _specs() -> dict:
    from monai_cbis.zoo.specs import SPECS  # lazily: the zoo is not needed to compute or read a report

    return SPECS


def _published(spec) -> dict | None:
    ref = getattr(spec, "published", None)  # a spec without published figures: no reference
    if ref is None:
        return None
    try:
        return check_paper_reference(ref)
    except ValueError as e:
        raise ValueError(f"The spec of bundle {spec.name!r}: {e}") from None


def spec_reference(model: str | None, kind: str) -> dict | None:
    """The reference kept with the spec of the bundle ``model`` (``<model>`` or ``<model>_<kind>``), or None.

    Names are compared in lower case; a spec of the other kind does not match (``unet_effb3`` has no
    classification figure).

    Raises:
        ValueError: ``kind`` is not one of :data:`KINDS`.

    Example:
        >>> spec_reference("unet_roi", "segmentation")["figures"]  # doctest: +SKIP
        {'lesion_dice': 0.8402, 'lesion_iou': 0.7246}
        >>> spec_reference("my_net", "segmentation") is None
        True
    """
    if kind not in KINDS:
        raise ValueError(f"Unsupported kind: {kind!r}, available options are {list(KINDS)}.")
    if model is None:
        return None
    name, specs = str(model).strip().lower(), _specs()
    for candidate in (name, f"{name}_{kind}"):
        spec = specs.get(candidate)
        if spec is not None and _kind_of(spec) == kind:
            return _published(spec)
    return None


def paper_reference(model: str | None, kind: str, metrics: Mapping | None = None) -> dict | None:
    """The published figure for a model: from its ``metrics.json`` first, else from its bundle's spec, else None.

    Args:
        model: the model's (bundle's) name.
        kind: one of :data:`KINDS` (the report's kind).
        metrics: the model's parsed ``metrics.json``; its ``"paper_reference"`` wins when it has the reference shape.

    Raises:
        ValueError: ``kind`` is not one of :data:`KINDS`.

    Example:
        >>> paper_reference("vgg16", "classification")["figures_from_scratch"]  # doctest: +SKIP
        {'accuracy': 0.7156}
        >>> paper_reference("my_net", "classification") is None  # unknown model: an empty paper cell
        True
    """
    if kind not in KINDS:
        raise ValueError(f"Unsupported kind: {kind!r}, available options are {list(KINDS)}.")
    own = (metrics or {}).get("paper_reference")
    if is_paper_reference(own):
        return check_paper_reference(own)
    return spec_reference(model, kind)


def published_references(kind: str) -> dict[str, dict]:
    """Every bundle spec's reference of one kind: ``{bundle name: reference}``, in the specs' order.

    Raises:
        ValueError: ``kind`` is not one of :data:`KINDS`.

    Example:
        >>> published_references("classification")["vgg16_classification"]["figures"]  # doctest: +SKIP
        {'accuracy': 0.7739}
    """
    if kind not in KINDS:
        raise ValueError(f"Unsupported kind: {kind!r}, available options are {list(KINDS)}.")
    out = {}
    for name, spec in _specs().items():
        ref = _published(spec) if _kind_of(spec) == kind else None
        if ref is not None:
            out[name] = ref
    return out


def resolve_paper_reference(value: Mapping | bool | None, model_name: str | None, kind: str) -> dict | None:
    """What a report handler writes under ``"paper_reference"`` for its ``paper_reference=`` argument.

    Args:
        value: a reference dict (checked, then written as given), None or False (the key is left out), or True
            (kept for older configs: the reference of the bundle spec named ``model_name``, None when there is none).
        model_name: the handler's ``model_name``.
        kind: one of :data:`KINDS`.

    Raises:
        ValueError: ``value`` is a dict of another shape, or neither a dict, a bool nor None.

    Example:
        >>> resolve_paper_reference(False, "unet_roi", "segmentation") is None
        True
        >>> resolve_paper_reference(True, None, "segmentation") is None  # no model name: nothing to look up
        True
    """
    if value is None or value is False:
        return None
    if value is True:
        return spec_reference(model_name, kind)
    if isinstance(value, Mapping):
        return check_paper_reference(value)
    raise ValueError(
        f"paper_reference is {value!r}, expected a reference dict with the keys {list(REFERENCE_KEYS)}, None, or a "
        "bool (True: the reference of the bundle spec named model_name)."
    )


def deprecated_table(module: str, name: str, kind: str) -> dict[str, dict]:
    """A former table of published figures (``PAPER_REFERENCE_SEGMENTATION`` ...), now :func:`published_references`.

    Warns (DeprecationWarning) that the value is keyed by bundle name, in the reference shape, not the old layout.
    """
    warnings.warn(
        f"{module}.{name} is derived from the bundle specs (monai_cbis.zoo.specs.SPECS[...].published): "
        f"{{bundle name: reference}}; use monai_cbis.evaluation.references.published_references({kind!r}).",
        DeprecationWarning,
        stacklevel=3,
    )
    return published_references(kind)
