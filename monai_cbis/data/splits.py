"""Training / validation / test splits of CBIS-DDSM, grouped by woman (``P_xxxxx``).

* ``official``: the Training/Test prefix of the series folders. Within one abnormality type it is patient-disjoint,
  but across types it is not (13 mass-train women are in calc-test and 18 calc-train women in mass-test), so using
  both types with this split leaks; :func:`plan_split` counts those women and the caller warns.
* ``patient`` (the default, leak-free): the test section is the official test set; every woman with a row in any
  official test CSV (of either type, whatever the task) is removed from training and validation.

In both, validation is drawn from the training women, by woman, across both types and both views (so the CC and MLO
views of a lesion never straddle training and validation), with a seeded shuffle of the sorted women, stratified by
the types each woman has (mass only, calcification only, both) so that every task gets its share. The choice does
not depend on ``task``: a woman is in validation for ``task="mass"`` exactly when she is for ``"both"``.

Example:
    >>> rng = np.random.RandomState(0)
    >>> plan = plan_split(index.all_records, split="patient", val_frac=0.2, rng=rng)  # doctest: +SKIP
    >>> plan.section_of("P_00001", "train")  # doctest: +SKIP
    'training'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .records import CaseRecord

__all__ = ["SECTIONS", "SPLITS", "SplitPlan", "plan_split", "pick_validation_women"]

SECTIONS = ("training", "validation", "test")
SPLITS = ("patient", "official")


@dataclass(frozen=True)
class SplitPlan:
    """Which section each woman's official-train and official-test rows go to.

    Attributes:
        split: ``patient`` | ``official``.
        validation_women: women moved from training to validation.
        removed_women: (``patient``) women with official-train rows who also have official-test rows; their
            training rows are dropped.
        leaking_women: women with rows on both sides of the official split (any type).
    """

    split: str
    validation_women: frozenset[str]
    removed_women: frozenset[str]
    leaking_women: frozenset[str]

    def section_of(self, patient_id: str, official_split: str) -> str | None:
        """``training``, ``validation``, ``test``, or ``None`` for a row that the split drops."""
        if official_split == "test":
            return "test"
        if patient_id in self.removed_women:
            return None
        return "validation" if patient_id in self.validation_women else "training"


def pick_validation_women(women: Iterable[str], val_frac: float, rng: np.random.RandomState) -> frozenset[str]:
    """Shuffle the sorted women with ``rng`` and take ``round(val_frac * n)`` of them (at least one if
    ``val_frac > 0`` and there are two or more women, so validation is never silently empty)."""
    if not 0.0 <= val_frac < 1.0:
        raise ValueError(f"val_frac must be in [0, 1), got {val_frac}.")
    pool = sorted(set(women))
    rng.shuffle(pool)
    n = int(round(val_frac * len(pool)))
    if val_frac > 0 and n == 0 and len(pool) >= 2:
        n = 1
    return frozenset(pool[:n])


def plan_split(
    records: Iterable[CaseRecord],
    split: str = "patient",
    val_frac: float = 0.2,
    rng: np.random.RandomState | None = None,
) -> SplitPlan:
    """Plan a split over every parsed row (all types: pass ``CollectionIndex.all_records``, not a task subset).

    Raises:
        ValueError: unknown ``split`` or ``val_frac`` outside [0, 1).
    """
    if split not in SPLITS:
        raise ValueError(f"Unsupported split: {split!r}, available options are {list(SPLITS)}.")
    records = list(records)
    rng = rng if rng is not None else np.random.RandomState(0)
    train = {r.patient_id for r in records if r.split == "train"}
    test = {r.patient_id for r in records if r.split == "test"}
    leaking = frozenset(train & test)
    removed = leaking if split == "patient" else frozenset()
    # Stratify by the types a woman has in training (mass only, calc only, both), so a single-type task gets its
    # share of validation women even on a small collection; the draw still uses every woman, whatever the task.
    types: dict[str, set[str]] = {}
    for r in records:
        if r.split == "train" and r.patient_id not in removed:
            types.setdefault(r.patient_id, set()).add(r.abnormality_type)
    groups: dict[tuple, list[str]] = {}
    for woman, kinds in types.items():
        groups.setdefault(tuple(sorted(kinds)), []).append(woman)
    validation = frozenset().union(*(pick_validation_women(groups[g], val_frac, rng) for g in sorted(groups)))
    return SplitPlan(split=split, validation_women=validation, removed_women=removed, leaking_women=leaking)
