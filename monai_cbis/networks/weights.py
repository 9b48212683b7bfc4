"""Where pretrained ImageNet weights live on disk, and the error raised when a file is missing.

One folder holds every pretrained file: the torch hub cache, ``torch.hub.get_dir()/checkpoints``, i.e.
``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch/hub/checkpoints`` when ``TORCH_HOME`` is unset). That is where
MONAI's ``EfficientNet`` loader already looks (``torch.utils.model_zoo.load_url``), so the U-Net file keeps its upstream
name (``efficientnet-b3-5fb5a3c3.pth``); a timm classifier's file is ``<timm model name>.safetensors``, the
``model.safetensors`` of the Hugging Face repository ``timm/<timm model name>`` saved under a name that says which
model it is. DeepLabV3+'s ResNet-50 encoder reads the same ``resnet50.tv_in1k.safetensors`` as the ResNet-50
classifier. Both may instead be given any file with ``weights_path=``.

Nothing is downloaded unless the caller passes ``allow_download=True``; otherwise a missing file raises
:class:`PretrainedWeightsNotFoundError`, whose message names the file, the folder, and where to get it.

Example:
    >>> spec = efficientnet_weights("efficientnet-b3")
    >>> spec.file_name
    'efficientnet-b3-5fb5a3c3.pth'
    >>> path = resolve_weights_file(spec)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from monai.utils import optional_import

from ..atomic import atomic_write

huggingface_hub, _has_hf_hub = optional_import("huggingface_hub")

__all__ = [
    "PretrainedWeights",
    "PretrainedWeightsNotFoundError",
    "download_weights",
    "efficientnet_weights",
    "read_state_dict",
    "resolve_weights_file",
    "timm_weights",
    "weights_dir",
]

_HF_WEIGHTS_FILE = "model.safetensors"


@dataclass(frozen=True)
class PretrainedWeights:
    """One pretrained file: which model it belongs to, its local name and where it comes from.

    Attributes:
        model: the model name as its library knows it (``"efficientnet-b3"``, ``"resnet50.tv_in1k"``).
        file_name: the file's name inside :func:`weights_dir`.
        url: a direct download address (also shown to the user as the source).
        hf_hub_id: Hugging Face repository holding the file (timm weights); ``None`` for a plain URL.
        hf_filename: the file's name inside ``hf_hub_id``.
    """

    model: str
    file_name: str
    url: str
    hf_hub_id: str | None = None
    hf_filename: str | None = None

    @property
    def source(self) -> str:
        """Where the file comes from, as text for messages."""
        if self.hf_hub_id:
            return f"Hugging Face repository {self.hf_hub_id}, file {self.hf_filename} ({self.url})"
        return f"URL {self.url}"

    def default_path(self) -> Path:
        """The exact path the factories look at: ``weights_dir() / file_name``."""
        return weights_dir() / self.file_name


class PretrainedWeightsNotFoundError(FileNotFoundError):
    """A pretrained weights file is missing and downloads are not allowed.

    Attributes:
        weights: the :class:`PretrainedWeights` that were asked for.
        path: the exact path that was looked at.
    """

    def __init__(self, weights: PretrainedWeights, path: str | os.PathLike):
        self.weights = weights
        self.path = Path(path)
        super().__init__(self._message())

    def __reduce__(self):
        return type(self), (self.weights, self.path)

    def _message(self) -> str:
        folder, name = self.path.parent, self.path.name
        default = self.path == self.weights.default_path()
        where = " (the torch hub cache, $TORCH_HOME/hub/checkpoints)" if default else ""
        rename = "" if name == Path(urlparse(self.weights.url).path).name else f", saved as {name}"
        return (
            f"Pretrained weights for {self.weights.model!r} not found at {self.path}, and downloads are off "
            f"(allow_download=False). To use them, put the file\n"
            f"    {name}\n"
            f"into the folder\n"
            f"    {folder}{where}.\n"
            f"Get it on a machine with internet access from the {self.weights.source}{rename}, or build the network "
            f"once with allow_download=True.\n"
            f"Or train from random weights with pretrained=False (bundles: --use_imagenet_pretrain false)."
        )


def weights_dir() -> Path:
    """The folder holding pretrained files: ``torch.hub.get_dir()/checkpoints`` (``$TORCH_HOME/hub/checkpoints``).

    Read on every call, so a changed ``TORCH_HOME`` or ``torch.hub.set_dir`` takes effect at once.
    """
    return Path(torch.hub.get_dir()) / "checkpoints"


def efficientnet_weights(backbone: str = "efficientnet-b3") -> PretrainedWeights:
    """The ImageNet file MONAI's ``EfficientNet`` loads for ``backbone``, read from MONAI's own ``url_map``.

    Args:
        backbone: a MONAI EfficientNet name such as ``"efficientnet-b3"``.

    Raises:
        ValueError: MONAI has no ImageNet weights for ``backbone``.

    Example:
        >>> efficientnet_weights("efficientnet-b3").url.endswith("efficientnet-b3-5fb5a3c3.pth")
        True
    """
    from monai.networks.nets.efficientnet import url_map

    if backbone not in url_map:
        raise ValueError(f"Unsupported backbone: {backbone!r}, MONAI has ImageNet weights for {sorted(url_map)}.")
    url = url_map[backbone]
    # torch.hub.load_state_dict_from_url names the cached file after the URL's last path component.
    return PretrainedWeights(model=backbone, file_name=Path(urlparse(url).path).name, url=url)


def timm_weights(model_name: str) -> PretrainedWeights:
    """The file a timm model ``"<architecture>.<tag>"`` is loaded from: ``<model_name>.safetensors``.

    Its source is the Hugging Face repository named in timm's ``pretrained_cfg`` (``hf_hub_id``), file
    ``model.safetensors``.

    Args:
        model_name: a timm name with its pretrained tag, one of ``timm.list_pretrained()``.

    Raises:
        ValueError: timm has no pretrained weights under that name.

    Example:
        >>> timm_weights("resnet50.tv_in1k").file_name
        'resnet50.tv_in1k.safetensors'
    """
    from timm.models import get_pretrained_cfg

    if "." not in model_name:
        raise ValueError(f"Give the timm name with its pretrained tag, e.g. 'resnet50.tv_in1k', not {model_name!r}.")
    try:
        cfg = get_pretrained_cfg(model_name, allow_unregistered=False)
    except RuntimeError as e:  # timm: "Invalid pretrained tag (...) for ..."
        raise ValueError(f"timm has no pretrained weights {model_name!r}: {e} See timm.list_pretrained().") from e
    if cfg is None or not cfg.hf_hub_id:
        raise ValueError(f"timm has no Hugging Face weights for {model_name!r}; see timm.list_pretrained().")
    repo = cfg.hf_hub_id.split("@")[0]
    filename = cfg.hf_hub_filename or _HF_WEIGHTS_FILE
    return PretrainedWeights(
        model=model_name,
        file_name=f"{model_name}{Path(filename).suffix}",
        url=f"https://huggingface.co/{repo}/resolve/main/{filename}",
        hf_hub_id=repo,
        hf_filename=filename,
    )


def download_weights(weights: PretrainedWeights, destination: str | os.PathLike, progress: bool = True) -> Path:
    """Download ``weights`` to ``destination`` (the network is used here and nowhere else in this package).

    A plain URL goes through ``torch.hub.download_url_to_file`` (checking the hash prefix in names like
    ``efficientnet-b3-5fb5a3c3.pth``); a Hugging Face file through ``huggingface_hub.hf_hub_download`` and is then
    copied under its local name. Either way the final name appears only once the file is complete.

    Returns:
        ``destination`` as a ``Path``.

    Raises:
        ValueError: ``destination`` has another extension than the file (it decides how the file is read).
    """
    destination = Path(destination)
    if destination.suffix != Path(weights.file_name).suffix:
        raise ValueError(
            f"Cannot download {weights.file_name} to {destination}: the file name must end in "
            f"{Path(weights.file_name).suffix!r}, which is how it is read back."
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    if weights.hf_hub_id:
        if not _has_hf_hub:
            raise ImportError("Downloading timm weights needs huggingface_hub: pip install huggingface_hub.")
        cached = huggingface_hub.hf_hub_download(repo_id=weights.hf_hub_id, filename=weights.hf_filename)
        with open(cached, "rb") as src:
            atomic_write(destination, lambda dst: shutil.copyfileobj(src, dst), mode="wb")
    else:
        match = torch.hub.HASH_REGEX.search(Path(urlparse(weights.url).path).name)
        hash_prefix = match.group(1) if match else None
        torch.hub.download_url_to_file(weights.url, str(destination), hash_prefix=hash_prefix, progress=progress)
    return destination


def resolve_weights_file(
    weights: PretrainedWeights,
    weights_path: str | os.PathLike | None = None,
    allow_download: bool = False,
    progress: bool = True,
) -> Path:
    """Return the local file for ``weights``, downloading it only if ``allow_download`` is true.

    Args:
        weights: which pretrained file.
        weights_path: an explicit file to use instead of ``weights.default_path()``.
        allow_download: fetch a missing file from ``weights.source`` into the path that was looked at.
        progress: show a progress bar while downloading.

    Raises:
        PretrainedWeightsNotFoundError: the file is missing and ``allow_download`` is false.

    Example:
        >>> resolve_weights_file(timm_weights("resnet50.tv_in1k"))  # doctest: +SKIP
        PosixPath('/root/.cache/torch/hub/checkpoints/resnet50.tv_in1k.safetensors')
    """
    path = Path(weights_path).expanduser() if weights_path is not None else weights.default_path()
    if path.is_file():
        return path
    if not allow_download:
        raise PretrainedWeightsNotFoundError(weights, path)
    return download_weights(weights, path, progress=progress)


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a weights file: safetensors when named ``*.safetensors``, otherwise a torch state dict (``weights_only``).

    A checkpoint holding the weights under ``"state_dict"`` or ``"model"`` is unwrapped and a ``module.`` prefix
    dropped, as ``timm.models.load_state_dict`` does (it is what reads the file).

    Raises:
        RuntimeError: the file cannot be read as a state dict; the message names the file.

    Example:
        >>> state = read_state_dict(weights_dir() / "resnet50.tv_in1k.safetensors")  # doctest: +SKIP
        >>> state["conv1.weight"].shape  # doctest: +SKIP
        torch.Size([64, 3, 7, 7])
    """
    from timm.models import load_state_dict

    try:
        state = load_state_dict(str(path), use_ema=False, weights_only=True)
    except Exception as e:  # safetensors, pickle and zip errors alike
        raise RuntimeError(f"Cannot read weights file {path} as a state dict: {type(e).__name__}: {e}") from e
    return dict(state)
