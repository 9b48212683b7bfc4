"""Helpers that the bundle configs call by ``_target_``: where the data is, and which items a section holds.

An empty ``dataset_dir`` means the embedded synthetic CBIS-DDSM: it is written once into a cache folder
(``$MONAI_CBIS_CACHE`` or ``~/.cache/monai_cbis``) and reused. Any other ``dataset_dir`` must be a CBIS-DDSM download:
a path that does not exist or holds no CBIS-DDSM is an error, never a fall-back to the demo.

Example (in a bundle config)::

    "dataset_dir": "",
    "data_root": {"_target_": "monai_cbis.bundle.resolve_dataset_dir", "dataset_dir": "@dataset_dir"},
    "train_items": {"_target_": "monai_cbis.bundle.section_items", "dataset_dir": "@data_root",
                    "section": "training", "task": "mass", "level": "image"}
"""

from __future__ import annotations

import ast
import glob
import os
import re
import shutil
import sys
import tempfile
from functools import lru_cache

__all__ = [
    "DEMO",
    "cache_root",
    "demo_data_dir",
    "folder_items",
    "inference_items",
    "inference_root",
    "infer_bundle_root",
    "latest_checkpoint",
    "CLASS_BALANCE",
    "lesion_inference_items",
    "lesion_inference_root",
    "lesion_items",
    "loss_class_weights",
    "pathology_classes",
    "resolve_dataset_dir",
    "section_items",
    "train_sampler",
]

#: The embedded synthetic set: what ``dataset_dir=""`` trains on.
DEMO = {"layout": "classic", "cases": 150, "seed": 0}
_DEMO_NAMES = ("", "synthetic", "demo")


def _is_demo(dataset_dir) -> bool:
    """An empty ``dataset_dir`` (or ``synthetic`` / ``demo``) selects the synthetic demo."""
    return dataset_dir is None or str(dataset_dir).strip().lower() in _DEMO_NAMES


def cache_root() -> str:
    """``$MONAI_CBIS_CACHE`` or ``~/.cache/monai_cbis``."""
    return os.environ.get("MONAI_CBIS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "monai_cbis")


def demo_data_dir(cache_dir: str | None = None, **overrides) -> str:
    """Write (once) and return the synthetic CBIS-DDSM demo collection.

    Safe when several processes (DDP ranks, DataLoader workers) ask at once: each writes into its own temporary
    folder and renames it into place; the first rename wins and the others discard their copy.
    """
    from .data.synthetic import MANIFEST_NAME, make_synthetic_cbis

    params = {**DEMO, **overrides}
    name = f"synthetic-{params['layout']}-cases{params['cases']}-seed{params['seed']}"
    target = os.path.join(cache_dir or cache_root(), name)
    if os.path.isfile(os.path.join(target, MANIFEST_NAME)):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{name}.", dir=os.path.dirname(target))
    try:
        make_synthetic_cbis(os.path.join(tmp, "c"), **params)
        try:
            os.rename(os.path.join(tmp, "c"), target)
        except OSError:
            if not os.path.isfile(os.path.join(target, MANIFEST_NAME)):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_dataset_dir(dataset_dir: str | os.PathLike | None = "", cache_dir: str | None = None) -> str:
    """The folder to index: ``dataset_dir`` itself, or the synthetic demo when it is empty.

    Raises:
        FileNotFoundError: ``dataset_dir`` is given but does not exist (never a silent fall-back to the demo).
    """
    if _is_demo(dataset_dir):
        root = demo_data_dir(cache_dir)
        print(f"monai_cbis: synthetic demo data at {root} (pass --dataset_dir for a real CBIS-DDSM download)")
        return root
    path = os.path.abspath(os.path.expanduser(str(dataset_dir)))
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"dataset_dir {dataset_dir!r} does not exist or is not a folder. Pass the folder of a CBIS-DDSM "
            "download (classic TCIA, NBIA or Kaggle layout), or leave dataset_dir empty for the synthetic demo."
        )
    return path


@lru_cache(maxsize=8)
def _index(root: str, task: str, include_wrong_size_masks: bool):
    from .data.indexer import index_collection

    return index_collection(root, task=task, include_wrong_size_masks=include_wrong_size_masks)


def section_items(
    dataset_dir: str,
    section: str,
    task: str = "mass",
    level: str = "image",
    split: str = "patient",
    seed: int = 0,
    val_frac: float = 0.2,
    max_items: int | None = None,
    include_wrong_size_masks: bool = False,
    keys: list[str] | None = None,
) -> list[dict]:
    """The datalist items of one section (the collection is indexed once per process and reused).

    Args:
        dataset_dir: a folder from :func:`resolve_dataset_dir`.
        section: ``training``, ``validation`` or ``test``.
        task, level, split, seed, val_frac, include_wrong_size_masks: as :func:`monai_cbis.data.build_datalist`.
        max_items: keep only the first N items (quick runs); ``None`` keeps all.
        keys: keep only these item keys (what the pipeline uses; variable-length metadata such as
            ``abnormality_ids`` cannot be batched); ``None`` keeps all.

    Raises:
        ValueError: an unknown section, or a section with no items (the message gives the section sizes).
    """
    from .data.datalist import build_datalist
    from .data.splits import SECTIONS

    if section not in SECTIONS:
        raise ValueError(f"Unsupported section: {section!r}, available options are {list(SECTIONS)}.")
    index = _index(os.path.abspath(dataset_dir), task, include_wrong_size_masks)
    dl = build_datalist(index, level=level, split=split, seed=seed, val_frac=val_frac, warn=False)
    items = dl[section]
    if not items:
        raise ValueError(
            f"The {section} section of {dataset_dir} is empty (task={task}, level={level}, split={split}, "
            f"val_frac={val_frac}); section sizes: {dl['summary']['sections']}."
        )
    items = items[:max_items] if max_items else items
    if keys is not None:
        items = [{k: item[k] for k in keys if k in item} for item in items]
    return items


#: Class names by number of classes; the malignant class is always the last index (``num_classes - 1``).
_CLASS_NAMES = {
    2: ("benign", "malignant"),
    3: ("benign_without_callback", "benign", "malignant"),
}


def pathology_classes(num_classes: int = 2) -> tuple[str, ...]:
    """Class names of the benign/malignant label: 2 classes (``BENIGN_WITHOUT_CALLBACK`` counts as benign, as in
    CBIS-DDSM's own two-class use) or 3 (it keeps its own class). Malignant is always the last index.

    CBIS-DDSM has no normal (lesion-free) images: every item is a lesion, so there is no "normal" class.

    Example:
        >>> pathology_classes(3)
        ('benign_without_callback', 'benign', 'malignant')
    """
    if num_classes not in _CLASS_NAMES:
        raise ValueError(f"Unsupported num_classes: {num_classes!r}, available options are {sorted(_CLASS_NAMES)}.")
    return _CLASS_NAMES[num_classes]


def _pathology_index(item: dict, num_classes: int) -> int:
    pathology = str(item.get("pathology") or "").upper()
    if pathology == "MALIGNANT":
        return num_classes - 1
    if pathology in ("BENIGN", "BENIGN_WITHOUT_CALLBACK"):
        return 1 if num_classes == 3 and pathology == "BENIGN" else 0
    raise ValueError(
        f"{item.get('csv_file')} row {item.get('csv_row')}: pathology {item.get('pathology')!r} is not one of "
        "['BENIGN', 'BENIGN_WITHOUT_CALLBACK', 'MALIGNANT']."
    )


def lesion_items(
    dataset_dir: str,
    section: str,
    target: str = "mask",
    task: str = "mass",
    split: str = "patient",
    seed: int = 0,
    val_frac: float = 0.2,
    num_classes: int = 2,
    max_items: int | None = None,
    include_wrong_size_masks: bool = False,
) -> list[dict]:
    """One item per lesion (CSV row) for paper B's bundles, with the key names MONAI Label uses.

    Args:
        dataset_dir, section, task, split, seed, val_frac, max_items, include_wrong_size_masks: as
            :func:`section_items` (``level="abnormality"``).
        target: ``"mask"`` for ROI segmentation: ``{"image": full mammogram, "label": its lesion mask}``;
            ``"pathology"`` for classification: ``{"image", "mask" (to crop around), "label": class index}``.
        num_classes: 2 (benign / malignant) or 3 (``BENIGN_WITHOUT_CALLBACK`` apart), see :func:`pathology_classes`.

    Example:
        >>> lesion_items(root, "training", target="pathology", task="both")[0]  # doctest: +SKIP
        {'image': '.../1-1.dcm', 'mask': '.../1-2.dcm', 'label': 1}
    """
    targets = ("mask", "pathology")
    if target not in targets:
        raise ValueError(f"Unsupported target: {target!r}, available options are {list(targets)}.")
    pathology_classes(num_classes)  # validates num_classes
    items = section_items(
        dataset_dir, section, task=task, level="abnormality", split=split, seed=seed, val_frac=val_frac,
        max_items=max_items, include_wrong_size_masks=include_wrong_size_masks,
    )  # fmt: skip
    if target == "mask":
        return [{"image": i["image"], "label": i["mask"]} for i in items]
    return [{"image": i["image"], "mask": i["mask"], "label": _pathology_index(i, num_classes)} for i in items]


def _datalist_items(path: str) -> list[dict]:
    import json

    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"Cannot read the inference datalist {path}: {e}") from e
    if isinstance(data, dict):
        found = [k for k in ("testing", "test", "inference", "data") if isinstance(data.get(k), list)]
        if not found:
            raise ValueError(
                f"{path}: expected a list of items or a dict with one of ['testing', 'test', 'inference', 'data']; "
                f"it has keys {sorted(data)}."
            )
        data = data[found[0]]
    base = os.path.dirname(os.path.abspath(path))
    items = []
    for n, item in enumerate(data):
        if isinstance(item, str):
            item = {"image": item}
        if not isinstance(item, dict) or not item.get("image"):
            raise ValueError(f"{path}: item {n} has no 'image': {item!r}.")
        out = {}
        for k in ("image", "mask"):
            if item.get(k):
                p = os.path.expanduser(str(item[k]))
                out[k] = p if os.path.isabs(p) else os.path.join(base, p)
                if not os.path.isfile(out[k]):
                    raise FileNotFoundError(f"{path}: item {n}: {k} file {out[k]} does not exist.")
        if item.get("box") is not None:
            box = item["box"]
            if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
                raise ValueError(f"{path}: item {n}: box must be [x0, y0, x1, y1] in full-image pixels, got {box!r}.")
            out["box"] = [float(v) for v in box]
        items.append(out)
    if not items:
        raise ValueError(f"The inference datalist {path} holds no items.")
    return items


def lesion_inference_items(
    dataset_dir: str | None = "", datalist: str | None = "", task: str = "mass", section: str = "test"
) -> list[dict]:
    """Inference inputs of paper B's bundles: ``{"image"}`` items, with a ``"mask"`` to crop around when known.

    * ``datalist``: a JSON list of ``{"image": ..., "mask": ...}`` (``mask`` optional, or a ``box``
      ``[x0, y0, x1, y1]`` in full-image pixels for the classifiers; paths relative to the file);
    * else an empty ``dataset_dir``: the lesions of the synthetic demo's ``section`` (runs out of the box);
    * else a CBIS-DDSM download (it has the case CSVs): the lesions of its ``section``, each with its ROI mask;
    * else a plain folder: every DICOM/PNG/JPEG in it, whole images (no mask: the model sees the whole film).

    Example:
        >>> lesion_inference_items("", task="mass")[0]  # doctest: +SKIP
        {'image': '.../1-1.dcm', 'mask': '.../1-2.dcm'}
    """
    if datalist:
        return _datalist_items(os.path.abspath(os.path.expanduser(str(datalist))))
    root = resolve_dataset_dir(dataset_dir)
    has_csvs = _is_demo(dataset_dir) or glob.glob(os.path.join(root, "**", "*case_description*.csv"), recursive=True)
    if not has_csvs:
        return folder_items(root)
    items = section_items(root, section, task=task, level="abnormality")
    return [{"image": i["image"], "mask": i["mask"]} for i in items]


def lesion_inference_root(dataset_dir: str | None = "", datalist: str | None = "") -> str:
    """The folder that lesion-level output masks mirror: the datalist's inputs' common folder, else as
    :func:`inference_root`."""
    if datalist:
        items = _datalist_items(os.path.abspath(os.path.expanduser(str(datalist))))
        paths = [os.path.dirname(i[k]) for i in items for k in ("image", "mask") if k in i]
        return os.path.commonpath(paths)
    return inference_root(dataset_dir)


#: How the classifiers balance benign and malignant: a weighted sampler, loss weights, or not at all.
CLASS_BALANCE = ("sampler", "loss_weights", "none")


def _check_balance(class_balance: str) -> None:
    if class_balance not in CLASS_BALANCE:
        raise ValueError(f"Unsupported class_balance: {class_balance!r}, available options are {list(CLASS_BALANCE)}.")


def train_sampler(items: list[dict], class_balance: str = "sampler", seed: int = 0, distributed: bool = False):
    """The training sampler of a classifier bundle (the DataLoader shuffles only when this is None).

    ``class_balance="sampler"``: every class drawn equally often (no image is duplicated on disk), see
    :func:`monai_cbis.data.class_balanced_sampler`; otherwise ``None`` (plain shuffling) or, with ``distributed``,
    a shuffling ``DistributedSampler``.
    """
    _check_balance(class_balance)
    if class_balance == "sampler":
        from .data.sampling import class_balanced_sampler

        return class_balanced_sampler(items, label_key="label", seed=seed, distributed=distributed)
    if distributed:
        from monai.data import DistributedSampler

        return DistributedSampler(items, shuffle=True, even_divisible=True)
    return None


def loss_class_weights(items: list[dict], class_balance: str = "sampler", num_classes: int = 2, device=None):
    """``CrossEntropyLoss(weight=...)``: inverse class frequencies when ``class_balance="loss_weights"``, else None."""
    _check_balance(class_balance)
    if class_balance != "loss_weights":
        return None
    from .data.sampling import class_weights

    weights = class_weights(items, label_key="label", num_classes=num_classes)
    return weights.to(device) if device is not None else weights


def infer_bundle_root(default: str = ".") -> str:
    """The folder of the bundle being run: the parent of the ``configs/`` folder named by ``--config_file``.

    ``python -m monai.bundle run --config_file bundles/unet_effb3/configs/train.json`` from the repository root gives
    ``<repo>/bundles/unet_effb3``, so checkpoints and logs land in the bundle, not loose in the current directory.
    Without ``--config_file`` on the command line (a ``ConfigWorkflow`` built in Python, MONAI Label), ``default``.
    """
    argv = sys.argv
    for i, arg in enumerate(argv):
        if arg == "--config_file" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--config_file="):
            value = arg.split("=", 1)[1]
        else:
            continue
        if value.strip().startswith(("[", "(")):
            try:
                value = list(ast.literal_eval(value))[0]
            except (ValueError, SyntaxError, IndexError):
                continue
        folder = os.path.dirname(os.path.abspath(str(value)))
        return os.path.dirname(folder) if os.path.basename(folder) == "configs" else folder
    return os.path.abspath(default)


_EPOCH_RE = re.compile(r"epoch=(\d+)")


def latest_checkpoint(ckpt_dir: str, resume: bool = True) -> str:
    """The newest ``*checkpoint_epoch=N.pt`` in ``ckpt_dir`` (what ``--resume true`` continues from).

    Returns ``""`` when ``resume`` is false. Raises ``FileNotFoundError`` naming the folder when ``resume`` is true
    and there is nothing to resume.
    """
    if not resume:
        return ""
    found = glob.glob(os.path.join(ckpt_dir, "*checkpoint_epoch=*.pt"))
    if not found:
        raise FileNotFoundError(
            f"--resume true, but there is no checkpoint_epoch=N.pt in {ckpt_dir} to resume from. Train without "
            "--resume first, or point --ckpt_dir at the interrupted run's checkpoints."
        )
    return max(found, key=lambda p: int(_EPOCH_RE.search(os.path.basename(p)).group(1)))


_INPUT_SUFFIXES = (".dcm", ".dicom", ".png", ".jpg", ".jpeg")


def folder_items(folder: str) -> list[dict]:
    """``[{"image": path}]`` for every DICOM, PNG or JPEG file in ``folder`` (recursively, sorted), for inference.

    Raises:
        FileNotFoundError: ``folder`` is missing or holds no such file (the message names it).
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Inference input folder {folder!r} does not exist or is not a folder.")
    files = sorted(
        os.path.join(d, n) for d, _, names in os.walk(folder) for n in names if n.lower().endswith(_INPUT_SUFFIXES)
    )
    if not files:
        raise FileNotFoundError(f"No DICOM, PNG or JPEG files in {folder}; expected {list(_INPUT_SUFFIXES)}.")
    return [{"image": f} for f in files]


def inference_items(dataset_dir: str | None = "", cache_dir: str | None = None) -> list[dict]:
    """Inference inputs: every DICOM/PNG/JPEG under ``dataset_dir``, or, when it is empty, the full mammograms of
    the synthetic demo's test section (so the inference command runs out of the box)."""
    if _is_demo(dataset_dir):
        root = resolve_dataset_dir("", cache_dir)
        return [{"image": i["image"]} for i in section_items(root, "test", task="both", level="image")]
    return folder_items(os.path.abspath(os.path.expanduser(str(dataset_dir))))


def inference_root(dataset_dir: str | None = "", cache_dir: str | None = None) -> str:
    """The folder that output masks mirror (so ``a/1-1.dcm`` and ``b/1-1.dcm`` do not collide)."""
    if _is_demo(dataset_dir):
        return demo_data_dir(cache_dir)
    return os.path.abspath(os.path.expanduser(str(dataset_dir)))
