"""The synthetic cohort as pure data: women, lesions, full images, CSV rows, UIDs and where every trap goes.

Nothing here touches pixels or disk. One ``numpy`` Generator seeded by the user's seed draws everything, in a fixed
order, so the same seed always gives the same plan, whatever the layout.

Guaranteed traps (for every ``cases >= MIN_CASES``) come from eight *roles* handed to eight randomly chosen women
(see :data:`ROLES`); the remaining women are drawn at random. Row-level traps (swapped columns, separate crop/mask
series, the minority file numbering, wrong-size masks) are chosen per abnormality type with at least one of each.

Example:
    >>> plan = make_plan(cases=8, seed=0)
    >>> sorted(plan.csv_rows)[0]
    'calc_case_description_test_set.csv'
"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict

import numpy as np

from .model import FileSpec, Film, FullImage, Lesion, Plan, PlannedRow, SeriesSpec
from .vocabulary import (
    ASSESSMENT,
    BWC_SHARE_OF_BENIGN,
    CALC_DISTRIBUTION,
    CALC_TYPE,
    CSV_NAMES,
    MALIGNANT_SHARE,
    MASS_MARGINS,
    MASS_SHAPE,
)

__all__ = ["MIN_CASES", "MAX_CASES", "ROLES", "UID_ROOT", "csv_name", "make_plan"]

MIN_CASES = 8
MAX_CASES = 20000
UID_ROOT = "1.3.6.1.4.1.9590.100.1.2."

# One woman per role, so that every trap appears even at MIN_CASES women.
ROLES = (
    "leak_mass_train_calc_test",  # mass-TRAIN woman in calc-TEST; mass and calc lesion on the same side (same views)
    "leak_calc_train_mass_test",  # calc-train woman in mass-test
    "mixed_pathology",  # two masses on one breast, both views: one MALIGNANT, one BENIGN (multi-lesion, mixed)
    "calc_multi",  # 2-3 calcification clusters on one breast, both views (multi-lesion)
    "mass_test",
    "calc_test",  # first lesion BENIGN_WITHOUT_CALLBACK
    "both_train",  # in both type files, both train
    "mass_single_view",  # one mass seen in one view only; breast density 0
)
if len(ROLES) != MIN_CASES:  # pragma: no cover - guards an edit of ROLES
    raise AssertionError("MIN_CASES must equal the number of roles.")

_FIRST_DATE = _dt.date(2016, 7, 1)


def csv_name(abn_type: str, split: str) -> str:
    """``("mass", "train")`` -> ``"mass_case_description_train_set.csv"``."""
    return f"{'mass' if abn_type == 'mass' else 'calc'}_case_description_{split}_set.csv"


def _series_folder(abn_type: str, split: str, pid: str, side: str, view: str) -> str:
    kind = "Mass" if abn_type == "mass" else "Calc"
    return f"{kind}-{'Training' if split == 'train' else 'Test'}_{pid}_{side}_{view}"


def _pick(rng: np.random.Generator, table: list[tuple[str, float]]) -> str:
    w = np.array([t[1] for t in table], dtype=float)
    return table[int(rng.choice(len(table), p=w / w.sum()))][0]


class _Uids:
    """Realistic, unique UIDs; the last 5 digits never repeat within one SeriesFolder (NBIA folder names use them)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: set[str] = set()
        self.tails: dict[str, set[str]] = defaultdict(set)

    def new(self, folder: str | None = None) -> str:
        while True:
            digits = self.rng.integers(0, 10, size=int(self.rng.integers(37, 40)))
            digits[0] = self.rng.integers(1, 10)
            uid = UID_ROOT + "".join(map(str, digits.tolist()))
            if uid in self.used or (folder is not None and uid[-5:] in self.tails[folder]):
                continue
            self.used.add(uid)
            if folder is not None:
                self.tails[folder].add(uid[-5:])
            return uid


class _Planner:
    def __init__(self, cases: int, seed: int, base_size: tuple[int, int]):
        self.rng = np.random.default_rng(seed)
        self.cases = cases
        self.base_size = base_size
        self.lesions: list[Lesion] = []
        self.density: dict[str, int] = {}

    # -- women and lesions ------------------------------------------------------------------------------------------
    def _lesion(self, abn_type, pid, split, side, views, pathology=None) -> Lesion:
        rng = self.rng
        if pathology is None:
            if rng.random() < MALIGNANT_SHARE[(abn_type, split)]:
                pathology = "MALIGNANT"
            else:
                pathology = "BENIGN_WITHOUT_CALLBACK" if rng.random() < BWC_SHARE_OF_BENIGN[abn_type] else "BENIGN"
            locked = False
        else:
            locked = True
        les = Lesion(len(self.lesions), abn_type, pid, split, side, tuple(views), pathology, locked=locked)
        self._describe(les)
        self.lesions.append(les)
        return les

    def _describe(self, les: Lesion) -> None:
        rng, mal = self.rng, les.malignant
        if les.abn_type == "mass":
            les.descriptors = (_pick(rng, MASS_SHAPE[mal]), _pick(rng, MASS_MARGINS[mal]))
        else:
            les.descriptors = (_pick(rng, CALC_TYPE[mal]), _pick(rng, CALC_DISTRIBUTION[mal]))
        values, p = ASSESSMENT[les.pathology]
        les.assessment = int(rng.choice(values, p=p))
        les.subtlety = int(rng.choice([1, 2, 3, 4, 5], p=[0.05, 0.15, 0.3, 0.25, 0.25]))

    def _random_views(self) -> tuple[str, ...]:
        if self.rng.random() < 0.8:
            return ("CC", "MLO")
        return (str(self.rng.choice(["CC", "MLO"])),)

    def _random_lesions(self, abn_type: str, pid: str, split: str, side: str | None = None) -> None:
        n = int(self.rng.choice([1, 2, 3], p=[0.8, 0.15, 0.05]))
        first = side or str(self.rng.choice(["LEFT", "RIGHT"]))
        for i in range(n):
            s = first if i == 0 or self.rng.random() < 0.6 else ("RIGHT" if first == "LEFT" else "LEFT")
            self._lesion(abn_type, pid, split, s, self._random_views())

    def _woman(self, pid: str, role: str | None) -> None:
        rng = self.rng
        self.density[pid] = int(rng.choice([1, 2, 3, 4], p=[0.2, 0.35, 0.3, 0.15]))
        both = ("CC", "MLO")
        if role == "leak_mass_train_calc_test":
            self._lesion("mass", pid, "train", "LEFT", both)
            self._lesion("calcification", pid, "test", "LEFT", both)
        elif role == "leak_calc_train_mass_test":
            self._lesion("calcification", pid, "train", "RIGHT", both)
            self._lesion("mass", pid, "test", "RIGHT", self._random_views())
        elif role == "mixed_pathology":
            side = str(rng.choice(["LEFT", "RIGHT"]))
            self._lesion("mass", pid, "train", side, both, "MALIGNANT")
            self._lesion("mass", pid, "train", side, both, "BENIGN")
        elif role == "calc_multi":
            side = str(rng.choice(["LEFT", "RIGHT"]))
            for _ in range(int(rng.integers(2, 4))):
                self._lesion("calcification", pid, "train", side, both)
        elif role == "mass_test":
            self._random_lesions("mass", pid, "test")
        elif role == "calc_test":
            self._lesion("calcification", pid, "test", str(rng.choice(["LEFT", "RIGHT"])), both)
            self.lesions[-1].pathology, self.lesions[-1].locked = "BENIGN_WITHOUT_CALLBACK", True
            self._describe(self.lesions[-1])
        elif role == "both_train":
            self._random_lesions("mass", pid, "train")
            self._random_lesions("calcification", pid, "train")
        elif role == "mass_single_view":
            self._lesion("mass", pid, "train", str(rng.choice(["LEFT", "RIGHT"])), (str(rng.choice(both)),))
            self.density[pid] = 0
        else:
            u = rng.random()
            types = ["mass"] if u < 0.42 else ["calcification"] if u < 0.84 else ["mass", "calcification"]
            for t in types:
                self._random_lesions(t, pid, "train" if rng.random() < 0.78 else "test")

    # -- coverage of value quirks -----------------------------------------------------------------------------------
    def _cover_values(self) -> None:
        rng = self.rng
        by_file: dict[tuple[str, str], list[Lesion]] = defaultdict(list)
        for les in self.lesions:
            by_file[(les.abn_type, les.split)].append(les)
        for group in by_file.values():  # every file has a malignant and a benign lesion
            for want in ("MALIGNANT", "BENIGN"):
                if not any((les.pathology == "MALIGNANT") == (want == "MALIGNANT") for les in group):
                    free = [les for les in group if not les.locked]
                    les = free[int(rng.integers(len(free)))]
                    les.pathology, les.locked = want, True
                    self._describe(les)
        used: set[int] = set()

        def pick(abn_type: str, malignant: bool) -> Lesion:
            pool = [les for les in self.lesions if les.abn_type == abn_type and les.key not in used]
            preferred = [les for les in pool if les.malignant == malignant]
            les = (preferred or pool)[int(rng.integers(len(preferred or pool)))]
            used.add(les.key)
            return les

        les = pick("mass", True)
        les.descriptors = ("IRREGULAR-ARCHITECTURAL_DISTORTION", les.descriptors[1])
        les = pick("mass", False)
        les.descriptors = (les.descriptors[0], "N/A")
        for spelling, mal in (("LUCENT_CENTER", False), ("LUCENT_CENTERED", False), ("PLEOMORPHIC-PLEOMORPHIC", True)):
            les = pick("calcification", mal)
            les.descriptors = (spelling, les.descriptors[1])
        les = pick("calcification", False)
        les.descriptors = (les.descriptors[0], "N/A")
        if all(les.subtlety != 0 for les in self.lesions):
            self.lesions[int(rng.integers(len(self.lesions)))].subtlety = 0
        if all(les.assessment != 0 for les in self.lesions):
            self.lesions[int(rng.integers(len(self.lesions)))].assessment = 0

    # -- films, series and rows -------------------------------------------------------------------------------------
    def _film_size(self) -> tuple[int, int]:
        rows, cols = self.base_size
        jr, jc = self.rng.uniform(0.94, 1.06, size=2)
        return int(round(rows * jr)), int(round(cols * jc))

    def build(self, pids: list[str]) -> Plan:
        rng = self.rng
        roles = list(ROLES) + [None] * (len(pids) - len(ROLES))
        order = rng.permutation(len(pids))
        for i in range(len(pids)):
            self._woman(pids[i], roles[int(order[i])])
        self._cover_values()
        # abnormality ids: numbered per (woman, type, side) so the CC and MLO rows of a lesion share an id
        counters: dict[tuple[str, str, str], int] = defaultdict(int)
        for les in self.lesions:
            counters[(les.pid, les.abn_type, les.side)] += 1
            les.abn_id = counters[(les.pid, les.abn_type, les.side)]

        uids = _Uids(rng)
        films: dict[tuple[str, str, str], Film] = {}
        images: dict[tuple[str, str, str, str, str], FullImage] = {}
        rows: dict[str, list[PlannedRow]] = {name: [] for name in CSV_NAMES}
        for les in sorted(self.lesions, key=lambda le: (le.pid, le.side, le.abn_type, le.abn_id)):
            for view in les.views:
                fkey = (les.pid, les.side, view)
                if fkey not in films:
                    r, c = self._film_size()
                    bits = 12 if rng.random() < 0.3 else 16
                    films[fkey] = Film(len(films), les.pid, les.side, view, self.density[les.pid], r, c, bits)
                film = films[fkey]
                film.lesions.append(les)
                ikey = (les.abn_type, les.split, les.pid, les.side, view)
                if ikey not in images:
                    folder = _series_folder(*ikey)
                    series = self._series(uids, folder, "full mammogram images", 1)
                    images[ikey] = FullImage(les.abn_type, les.split, film, self._file(uids, series, 0))
                name = csv_name(les.abn_type, les.split)
                rows[name].append(PlannedRow(name, les, view, self.density[les.pid], images[ikey]))
        for name in CSV_NAMES:
            rows[name].sort(key=lambda r: (r.lesion.pid, r.lesion.side, r.view, r.lesion.abn_id))
        all_rows = [r for name in CSV_NAMES for r in rows[name]]
        self._assign_row_traps(all_rows)
        for row in all_rows:
            self._roi_files(uids, row)
        return Plan(list(films.values()), list(images.values()), rows)

    def _series(self, uids: _Uids, folder: str, description: str, n_images: int) -> SeriesSpec:
        study = uids.new(folder)
        series = uids.new(folder)
        date = _FIRST_DATE + _dt.timedelta(days=int(self.rng.integers(0, 450)))
        return SeriesSpec(folder, study, series, description, date, bool(self.rng.random() < 0.5), n_images)

    def _file(self, uids: _Uids, series: SeriesSpec, index: int, taken: int = 0) -> FileSpec:
        number = int(self.rng.integers(1, 1000))
        while number == taken:
            number = int(self.rng.integers(1, 1000))
        return FileSpec(series, index, uids.new(), number)

    def _assign_row_traps(self, all_rows: list[PlannedRow]) -> None:
        rng = self.rng

        def choose(pool: list[PlannedRow], share: float) -> list[PlannedRow]:
            k = min(len(pool), max(1, int(round(share * len(pool)))))
            return [pool[int(i)] for i in rng.choice(len(pool), size=k, replace=False)]

        for abn_type in ("mass", "calcification"):
            typed = [r for r in all_rows if r.lesion.abn_type == abn_type]
            for r in choose(typed, 0.06):
                r.separate_series = True
            for r in choose([r for r in typed if not r.separate_series], 0.15):
                r.minority_numbering = True
            for r in choose(typed, 0.12):
                r.swapped = True
        # wrong-size masks: one "off" in mass, one "transposed" in calc, then ~3 % more, never on a swapped row
        n_extra = max(0, int(round(0.03 * len(all_rows))) - 2)
        for abn_type, kind in (("mass", "off"), ("calcification", "transposed")):
            pool = [r for r in all_rows if r.lesion.abn_type == abn_type and not r.swapped and not r.wrong_size]
            pool[int(rng.integers(len(pool)))].wrong_size = kind
        pool = [r for r in all_rows if not r.swapped and not r.wrong_size]
        for i in rng.choice(len(pool), size=min(n_extra, len(pool)), replace=False):
            pool[int(i)].wrong_size = "off" if rng.random() < 0.6 else "transposed"
        for r in all_rows:
            if r.wrong_size == "transposed" and r.image.film.rows == r.image.film.cols:
                r.wrong_size = "off"  # a square image transposed keeps its size
            if r.wrong_size == "off":
                dr, dc = rng.integers(2, 9, size=2) * rng.choice([-1, 1], size=2)
                r.wrong_delta = (int(dr), int(dc))

    def _roi_files(self, uids: _Uids, row: PlannedRow) -> None:
        folder = f"{row.image.file.series.folder}_{row.lesion.abn_id}"
        if row.separate_series:
            crop_series = self._series(uids, folder, "cropped images", 1)
            mask_series = self._series(uids, folder, "ROI mask images", 1)
            row.crop = self._file(uids, crop_series, 0)
            row.mask = self._file(uids, mask_series, 0)
            return
        series = self._series(uids, folder, "ROI mask images", 2)
        mask_first = row.lesion.abn_type == "calcification"  # calc: mask mostly 000000; mass: crop mostly 000000
        if row.minority_numbering:
            mask_first = not mask_first
        first = self._file(uids, series, 0)
        second = self._file(uids, series, 1, taken=first.kaggle_number)
        row.mask, row.crop = (first, second) if mask_first else (second, first)


def make_plan(cases: int, seed: int, base_size: tuple[int, int] = (640, 400)) -> Plan:
    """Draw the whole synthetic cohort for ``cases`` women (``>= MIN_CASES``); pure, deterministic in ``seed``.

    Example:
        >>> len(make_plan(8, 0).films) > 8
        True
    """
    planner = _Planner(cases, seed, base_size)
    space = min(99999, max(2100, 3 * cases))
    numbers = np.sort(planner.rng.choice(np.arange(1, space + 1), size=cases, replace=False))
    return planner.build([f"P_{int(n):05d}" for n in numbers])
