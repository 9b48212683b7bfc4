"""A test-only train handler for the DDP tests: what each rank trained on and the weights it holds.

Added to a bundle by a third config file layered on train.json + multi_gpu_train.json (see ``probe_config``); the
torchrun subprocesses import it through ``PYTHONPATH``. Per rank ``r`` it writes into ``out_dir``:

* ``rank{r}.json``: the rank, the node tag (``$PROBE_NODE``), the pid, the epoch the trainer started from (after a
  resume), the ids of every item of the training set, and per epoch the ids of the items this rank trained on;
* ``rank{r}_start.pt`` / ``rank{r}_end.pt``: the network's state dict when training starts (after any checkpoint
  was loaded) and when it ends.
"""

from __future__ import annotations

import json
import os

import torch
from ignite.engine import Engine, Events

__all__ = ["Probe", "probe_config"]


def _item_id(item) -> str:
    """A lesion item's mask (two lesions of one film are two items), else its image."""
    label = item.get("label")
    return str(label) if isinstance(label, str) else str(item["image"])


def _batch_ids(batch) -> list[str]:
    """The ids of a batch; MONAI's engines have decollated it into item dicts by ``ITERATION_COMPLETED``."""
    if isinstance(batch, (list, tuple)):
        return [i for item in batch for i in _batch_ids(item)]
    ids = []
    for key in ("label", "image"):
        name = getattr(batch.get(key), "meta", {}).get("filename_or_obj")
        if name:
            ids = [name] if isinstance(name, str) else [str(n) for n in name]
            break
    return ids


class Probe:
    """Record the items each rank trains on and the weights at start and end (see the module docstring)."""

    def __init__(self, out_dir: str, network: torch.nn.Module) -> None:
        self.out_dir, self.network = out_dir, network
        self.rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
        self.record: dict = {"rank": self.rank, "node": os.environ.get("PROBE_NODE"), "pid": os.getpid(), "epochs": {}}

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.STARTED, self.started)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self.iteration)
        engine.add_event_handler(Events.COMPLETED, self.completed)

    def _save(self, name: str) -> None:
        module = getattr(self.network, "module", self.network)
        state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
        torch.save(state, os.path.join(self.out_dir, f"rank{self.rank}_{name}.pt"))

    def started(self, engine: Engine) -> None:
        os.makedirs(self.out_dir, exist_ok=True)
        self.record["start_epoch"] = engine.state.epoch
        self.record["dataset"] = [_item_id(i) for i in engine.data_loader.dataset.data]
        self._save("start")

    def iteration(self, engine: Engine) -> None:
        ids = self.record["epochs"].setdefault(str(engine.state.epoch), [])
        ids.extend(_batch_ids(engine.state.batch))

    def completed(self, engine: Engine) -> None:
        self._save("end")
        with open(os.path.join(self.out_dir, f"rank{self.rank}.json"), "w", encoding="utf-8") as f:
            json.dump(self.record, f)


def probe_config(out_dir: str) -> dict:
    """The config layer that adds a :class:`Probe` to every rank's train handlers."""
    return {
        "probe": {"_target_": "ddp_probe.Probe", "out_dir": out_dir, "network": "@network"},
        "train#trainer#train_handlers": "$monai_cbis.distributed.rank_zero_writers(@train#handlers + [@probe])",
    }
