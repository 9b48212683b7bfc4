"""Reading MONAI-style engine state (per-item dicts, file names, case fields, arrays), gathering across DDP ranks,
and the lifecycle shared by the report handlers (:class:`ReportHandlerBase`; :class:`OverlayReportBase` for those
that also draw overlays of some cases).

Case names: an item that carries a ``case`` dict (every item of :mod:`monai_cbis.data.items`, see
:mod:`monai_cbis.data.case_fields`) is named by it (``Mass-Test_P_00477_RIGHT_CC``, ``..._CC_2`` for one lesion) and
its fields become columns (:data:`~monai_cbis.data.case_fields.CASE_COLUMNS`, empty cells for items without one);
other items (a bare folder, MONAI Label) are named after their file path (:func:`~.reports.case_names`). Under DDP,
rows are kept once per case name (or image path, without one): padded distributed samplers repeat items, and
several lesions of one film are different cases.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence

import ignite.distributed as idist
from ignite.engine import Engine, Events
from monai.data import decollate_batch

from ..data.case_fields import CASE_COLUMNS, CASE_KEY
from ..transforms.views import to_numpy  # re-exported: the handlers read engine outputs with it
from .figures import save_png
from .reports import case_names, number_repeats, safe_name

__all__ = [
    "ReportHandlerBase",
    "OverlayReportBase",
    "OVERLAY_SELECTIONS",
    "items",
    "item_case",
    "item_filename",
    "to_numpy",
    "gather",
    "is_writer",
    "scalar",
]


#: Which cases a report draws overlays of: the first by image path, the worst or the best.
OVERLAY_SELECTIONS = ("first", "worst", "best")


def items(data) -> list[dict]:
    """``engine.state.output`` / ``.batch`` as a list of per-item dicts (decollating a batched dict if needed)."""
    if data is None:
        return []
    if isinstance(data, dict):
        return list(decollate_batch(data, detach=True))
    if isinstance(data, (list, tuple)) and all(isinstance(d, dict) for d in data):
        return list(data)
    raise TypeError(
        f"Expected engine output/batch as a dict or a list of per-item dicts (MONAI engines), got {type(data)}."
    )


def _meta_filename(value) -> str | None:
    meta = getattr(value, "meta", None)
    if isinstance(meta, dict):
        fn = meta.get("filename_or_obj")
        if isinstance(fn, (list, tuple)):  # a batch that was not decollated
            fn = fn[0] if len(fn) == 1 else None
        if fn:
            return str(fn)
    return None


def item_filename(output_item: dict, batch_item: dict | None, keys: Sequence[str]) -> str | None:
    """The item's ``filename_or_obj`` from the MetaTensors under ``keys`` (output first, then batch), else None.

    Old-style ``{key}_meta_dict`` entries of the batch item are read too.
    """
    for source in (output_item, batch_item or {}):
        for k in keys:
            fn = _meta_filename(source.get(k))
            if fn:
                return fn
    for k in keys:
        meta = (batch_item or {}).get(f"{k}_meta_dict")
        if isinstance(meta, dict) and meta.get("filename_or_obj"):
            return str(meta["filename_or_obj"])
    return None


def _text(value) -> str:
    if isinstance(value, (list, tuple)):  # a batch of one that was not decollated
        value = value[0] if len(value) == 1 else ";".join(str(v) for v in value)
    return "" if value is None else str(value)


def item_case(output_item: Mapping, batch_item: Mapping | None) -> dict[str, str] | None:
    """The item's ``case`` dict (output first, then batch) with string values, or None when it has none (or no
    ``name``).

    Example:
        >>> item_case({}, {"case": {"name": "Mass-Test_P_00477_RIGHT_CC", "view": "CC"}})["view"]
        'CC'
        >>> item_case({"image": 0}, None) is None
        True
    """
    for source in (output_item, batch_item or {}):
        case = source.get(CASE_KEY)
        if isinstance(case, Mapping) and _text(case.get("name")):
            return {str(k): _text(v) for k, v in case.items()}
    return None


def scalar(x) -> float:
    """One number from a Python number, 0-d / 1-element tensor or array."""
    a = to_numpy(x)
    if a.size != 1:
        raise ValueError(f"Expected a scalar, got an array of shape {a.shape}.")
    return float(a.reshape(()))


def gather(obj) -> list:
    """``[obj of rank 0, obj of rank 1, ...]`` under DDP (a collective: every rank must call it); ``[obj]`` alone."""
    if idist.get_world_size() <= 1:
        return [obj]
    return list(idist.all_gather(obj))


def is_writer(save_rank: int = 0) -> bool:
    """Whether this process writes files (the ``save_rank`` process, rank 0 by default)."""
    ws = idist.get_world_size()
    if save_rank >= max(ws, 1):
        raise ValueError(f"save_rank {save_rank} is not a rank of this run (world size {ws}).")
    return idist.get_rank() == save_rank


class ReportHandlerBase:
    """Shared lifecycle of the report handlers: reset at STARTED, collect per item at ITERATION_COMPLETED, gather
    and write at COMPLETED. Subclasses implement :meth:`collect` (one item) and :meth:`completed`."""

    def __init__(
        self, output_dir: str, keys: tuple[str, ...], save_rank: int, name: str | None, gather_across_ranks: bool
    ) -> None:
        self.output_dir = str(output_dir)
        self.keys = keys
        self.save_rank = save_rank
        self.gather_across_ranks = bool(gather_across_ranks)
        self.logger = logging.getLogger(name) if name else None
        self._name = name
        self.reset()

    def reset(self, engine: Engine | None = None) -> None:
        self.rows: list[dict] = []
        self._counter = 0
        self._case: dict[str, str] | None = None
        self._batch_item = dict

    def row_id(self, filename: str) -> str:
        """What tells the item being collected apart from the others: its case name, else its file."""
        return self._case["name"] if self._case else filename

    def attach(self, engine: Engine) -> None:
        """Register on ``engine`` (an evaluator): STARTED resets, ITERATION_COMPLETED collects, COMPLETED writes."""
        if self._name is None:
            self.logger = engine.logger
        engine.add_event_handler(Events.STARTED, self.reset)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self.iteration_completed)
        engine.add_event_handler(Events.COMPLETED, self.completed)

    def iteration_completed(self, engine: Engine) -> None:
        """Collect the rows of this iteration's items."""
        outputs = items(engine.state.output)
        batch: list[dict] | None = None

        def batch_item(i: int, strict: bool = True) -> dict | None:
            nonlocal batch
            if batch is None:
                b = engine.state.batch
                is_items = isinstance(b, dict) or (isinstance(b, list) and all(isinstance(d, dict) for d in b))
                if not (strict or is_items):  # only a case is looked for: a batch of plain tensors has none
                    return None
                batch = items(b) if isinstance(b, (dict, list)) else []
            return batch[i] if i < len(batch) else None

        for i, out in enumerate(outputs):
            self._batch_item = lambda i=i: batch_item(i, strict=False) or {}
            fn = item_filename(out, None, self.keys)
            if fn is None:
                fn = item_filename(out, batch_item(i), self.keys)
            if fn is None:
                ws = idist.get_world_size()
                fn = f"item_r{idist.get_rank()}_{self._counter:06d}" if ws > 1 else f"item_{self._counter:06d}"
            self._counter += 1
            self._case = item_case(out, None) or item_case({}, batch_item(i, strict=False))
            n = len(self.rows)
            self.collect(out, fn)
            for row in self.rows[n:]:
                row["_id"], row["_case"] = self.row_id(fn), self._case

    def batch_item(self) -> Mapping:
        """The batch item of the output item being collected (``{}`` when there is none): keys the post-processing
        did not touch stay in the batch (MONAI's ``engine_apply_transform``). Decollated once per iteration, and
        only when asked for."""
        return self._batch_item()

    def collect(self, item: Mapping, filename: str) -> None:
        raise NotImplementedError

    @property
    def requires_all_ranks(self) -> bool:
        """True when the handler must be attached on every DDP rank (it gathers rows with a collective)."""
        return self.gather_across_ranks

    def _gather(self, obj) -> list:
        return gather(obj) if self.gather_across_ranks else [obj]

    def _gathered_rows(self) -> list[dict]:
        """All ranks' rows, each case once, sorted by image then case, with ``case`` (a unique, file-safe name) and
        the :data:`CASE_COLUMNS` filled in ("" where the item had no ``case`` dict and the row no such field)."""
        per_rank = self._gather(self.rows)
        rows = [r for part in per_rank for r in part]
        if len(per_rank) > 1:  # padded distributed samplers repeat items: keep each case once
            seen: set[str] = set()
            rows = [r for r in rows if not (r["_id"] in seen or seen.add(r["_id"]))]
        rows.sort(key=lambda r: (r["image"], r["_id"]))
        from_paths = iter(case_names([r["image"] for r in rows if not r["_case"]]))
        names = [safe_name(r["_case"]["name"]) if r["_case"] else next(from_paths) for r in rows]
        for r, case in zip(rows, number_repeats(names, "~"), strict=True):
            r["case"] = case
            for f in CASE_COLUMNS:
                r[f] = r["_case"].get(f, "") if r["_case"] else r.get(f, "")
        return rows

    def completed(self, engine: Engine) -> None:
        raise NotImplementedError


class OverlayReportBase(ReportHandlerBase):
    """A report handler that also draws overlays of some cases: the settings' checks, the pool of candidates kept
    small while collecting, and the removal of an earlier run's overlays that this run did not redraw."""

    def _overlay_settings(self, num_overlays: int, selection: str, panel_px: int, transpose: bool) -> None:
        if selection not in OVERLAY_SELECTIONS:
            raise ValueError(f"Unsupported overlay_selection: {selection!r}, available: {OVERLAY_SELECTIONS}.")
        if num_overlays < 0:
            raise ValueError(f"num_overlays must be >= 0, got {num_overlays}.")
        self.num_overlays, self.overlay_selection = int(num_overlays), selection
        self.panel_px, self.transpose_for_display = int(panel_px), bool(transpose)
        self._written_overlays: set[str] = set()

    def reset(self, engine: Engine | None = None) -> None:
        super().reset(engine)
        self._pool: list[tuple] = []  # (sort key, row id, ...): the overlay candidates

    def _add_candidate(self, entry: tuple) -> None:
        """Keep ``entry`` (its first element sorts it) among the candidates, at most twice the overlays."""
        self._pool.append(entry)
        if len(self._pool) > 2 * self.num_overlays:
            self._pool = sorted(self._pool, key=lambda e: e[0])[: self.num_overlays]

    def _candidates(self) -> list[tuple]:
        """Every rank's candidates, best first (a collective under DDP)."""
        return sorted((e for part in self._gather(self._pool) for e in part), key=lambda e: e[0])

    def _write_overlays(self, pool: Sequence[tuple], by_id: Mapping[str, dict], draw) -> list[str]:
        """Draw the first ``num_overlays`` cases of ``pool`` (:meth:`_candidates`; each case once) as
        ``overlays/<case>.png``: ``draw(row, entry)`` makes the figure of a case from its row (``by_id[entry[1]]``)
        and its candidate entry. Overlays of an earlier run that this run did not redraw are removed. Returns the
        written files, relative to ``output_dir``."""
        written, done = [], set()
        for entry in pool:
            rid = entry[1]
            if len(written) >= self.num_overlays or rid in done:
                continue
            done.add(rid)
            row = by_id[rid]
            rel = f"overlays/{row['case']}.png"
            save_png(draw(row, entry), os.path.join(self.output_dir, rel))
            written.append(rel)
        for stale in self._written_overlays - set(written):
            path = os.path.join(self.output_dir, stale)
            if os.path.isfile(path):
                os.remove(path)
        self._written_overlays = set(written)
        return written
