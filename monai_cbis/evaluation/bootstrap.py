"""95 % bootstrap confidence intervals resampled by woman (cluster bootstrap, pure numpy).

A woman contributes several images (CC and MLO views, both breasts) and often the same lesion twice (once per view),
so images and lesions are not independent: resampling them one by one gives intervals that are too narrow. Here
each resample draws the women (``patient_id``) with replacement, as many as there are, and takes every image and
lesion of each drawn woman as many times as she was drawn. One set of resamples (:class:`ClusterBootstrap`) serves
every statistic of a report, so the intervals of different groups come from the same draws.

The interval is the percentile interval (2.5th and 97.5th percentiles of the resampled statistic). Resamples in
which a group has no lesion give no value for that group and are left out; ``n_valid`` says how many remained.
With a fixed ``seed`` the intervals are reproducible.

Example:
    >>> women = ["a", "a", "b", "c"]                 # the woman of each lesion
    >>> boot = ClusterBootstrap(women, n_resamples=200, seed=0)
    >>> ci = boot.ratio_ci([1, 1, 0, 1], [1, 1, 1, 1], women)   # found / lesions: sensitivity
    >>> ci["estimate"], ci["low"] <= ci["estimate"] <= ci["high"], ci["n_valid"]
    (0.75, True, 200)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["ClusterBootstrap", "CI_LEVEL"]

#: Coverage of the intervals.
CI_LEVEL = 0.95


class ClusterBootstrap:
    """Resample clusters (women) with replacement; weight each row by how often its cluster was drawn.

    Args:
        clusters: the clusters (``patient_id``) of the units the statistics are computed over later, as text (a
            unit whose woman is unknown needs a key of its own, e.g. its image path).
        n_resamples: number of bootstrap resamples.
        seed: seed of ``numpy.random.default_rng``.

    Attributes:
        ids: sorted cluster keys; ``weights``: ``(n_resamples, n_clusters)`` draw counts.
    """

    def __init__(self, clusters: Sequence, n_resamples: int = 1000, seed: int = 0) -> None:
        if n_resamples < 1:
            raise ValueError(f"n_resamples must be >= 1, got {n_resamples}.")
        self.ids = sorted({str(c) for c in clusters})
        self._index = {k: i for i, k in enumerate(self.ids)}
        self.n_resamples, self.seed = int(n_resamples), int(seed)
        n = len(self.ids)
        rng = np.random.default_rng(self.seed)
        self.weights = rng.multinomial(n, np.full(n, 1.0 / n), size=self.n_resamples) if n else np.zeros((0, 0))

    @property
    def n_clusters(self) -> int:
        return len(self.ids)

    def cluster_index(self, clusters: Sequence) -> np.ndarray:
        """Index into :attr:`ids` of each given cluster.

        Raises:
            KeyError: a cluster the bootstrap was not built on.
        """
        try:
            return np.array([self._index[str(c)] for c in clusters], np.int64)
        except KeyError as e:
            raise KeyError(f"cluster {e.args[0]!r} is not one of the {self.n_clusters} the bootstrap drew.") from None

    def row_weights(self, clusters: Sequence) -> np.ndarray:
        """``(n_resamples, len(clusters))``: how often each row is taken in each resample."""
        return self.weights[:, self.cluster_index(clusters)] if len(clusters) else np.zeros((self.n_resamples, 0))

    def _per_cluster(self, idx: np.ndarray, values) -> np.ndarray:
        return np.bincount(idx, weights=np.asarray(values, np.float64), minlength=self.n_clusters)

    def ratio_ci(self, numerator, denominator, clusters: Sequence) -> dict:
        """Point estimate and interval of ``sum(numerator) / sum(denominator)`` over rows.

        Args:
            numerator, denominator: one value per row (e.g. found 0/1 and 1 per lesion: sensitivity; Dice and 1:
                mean Dice).
            clusters: each row's cluster (a woman not among those the bootstrap was built on is an error).

        Returns:
            ``{"estimate", "low", "high", "n_valid"}`` (None when the denominator sums to 0).
        """
        num = np.asarray(numerator, np.float64).reshape(-1)
        den = np.asarray(denominator, np.float64).reshape(-1)
        if num.shape != den.shape:
            raise ValueError(f"numerator and denominator differ in length: {num.size} vs {den.size}.")
        idx = self.cluster_index(clusters)
        total = den.sum()
        estimate = float(num.sum() / total) if total > 0 else None
        b_num = self.weights @ self._per_cluster(idx, num) if num.size else np.zeros(self.n_resamples)
        b_den = self.weights @ self._per_cluster(idx, den) if den.size else np.zeros(self.n_resamples)
        ok = b_den > 0
        return self._interval(estimate, b_num[ok] / b_den[ok])

    @staticmethod
    def _interval(estimate: float | None, values: np.ndarray) -> dict:
        alpha = (1.0 - CI_LEVEL) / 2
        if values.size == 0 or estimate is None:
            return {"estimate": estimate, "low": None, "high": None, "n_valid": int(values.size)}
        low, high = np.quantile(values, [alpha, 1.0 - alpha])
        return {"estimate": estimate, "low": float(low), "high": float(high), "n_valid": int(values.size)}

    def interval(self, estimate: float | None, resampled: np.ndarray) -> dict:
        """The percentile interval of statistics computed per resample (NaN entries left out)."""
        v = np.asarray(resampled, np.float64).reshape(-1)
        return self._interval(estimate, v[np.isfinite(v)])
