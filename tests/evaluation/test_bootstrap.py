"""Cluster bootstrap by woman: intervals hold the estimate, are reproducible, and resample women, not lesions."""

from __future__ import annotations

import numpy as np
import pytest

from monai_cbis.evaluation.bootstrap import ClusterBootstrap


def test_interval_contains_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(1)
    women = [f"P_{i // 3}" for i in range(60)]
    found = rng.uniform(size=60) < 0.6
    a = ClusterBootstrap(women, n_resamples=300, seed=7).ratio_ci(found, np.ones(60), women)
    b = ClusterBootstrap(women, n_resamples=300, seed=7).ratio_ci(found, np.ones(60), women)
    c = ClusterBootstrap(women, n_resamples=300, seed=8).ratio_ci(found, np.ones(60), women)
    assert a == b and a != c
    assert a["estimate"] == pytest.approx(found.mean()) and a["n_valid"] == 300
    assert a["low"] < a["estimate"] < a["high"]


def test_women_are_resampled_whole():
    # woman A: 2 lesions both found; woman B: 2 lesions both missed. Resampling women, the sensitivity of a
    # resample is 0, 0.5 or 1 (never 0.25 or 0.75, which resampling lesions one by one would give)
    women = ["A", "A", "B", "B"]
    boot = ClusterBootstrap(women, n_resamples=200, seed=0)
    num = boot.weights @ np.array([2.0, 0.0])  # per woman: lesions found
    assert set(np.round(num / 4, 3)) <= {0.0, 0.5, 1.0}
    ci = boot.ratio_ci([1, 1, 0, 0], [1, 1, 1, 1], women)
    assert (ci["low"], ci["high"]) == (0.0, 1.0)


def test_groups_without_lesions_in_a_resample_are_left_out():
    women = ["A", "B", "C", "D"]
    boot = ClusterBootstrap(women, n_resamples=100, seed=0)
    ci = boot.ratio_ci([1], [1], ["A"])  # a group holding woman A's lesion only
    assert ci["estimate"] == 1.0 and 0 < ci["n_valid"] < 100  # resamples without A give no value
    assert boot.ratio_ci([], [], [])["estimate"] is None
    with pytest.raises(KeyError, match="'Z' is not one of the 4"):
        boot.ratio_ci([1], [1], ["Z"])
    with pytest.raises(ValueError, match="n_resamples must be >= 1"):
        ClusterBootstrap(women, n_resamples=0)
