"""Bootstrap confidence intervals of any metric over patients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def bootstrap_ci(metric: Callable[[np.ndarray], float], n: int, *, n_boot: int = 200, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile CI of ``metric(indices)`` over resamples of ``n`` patients with replacement.

    Resamples where the metric is undefined (NaN, e.g. no events) are skipped.

    Returns:
        ``(low, high)``; NaNs when fewer than 10 resamples were usable.
    """
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_boot):
        v = metric(rng.integers(0, n, n))
        if np.isfinite(v):
            vals.append(v)
    if len(vals) < 10:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    return float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))


def harrell_c_ci(time: np.ndarray, event: np.ndarray, risk: np.ndarray, n_boot: int = 200, seed: int = 0) -> tuple[float, float]:
    """Bootstrap 95% CI of Harrell's C."""
    from clinfusion.evaluation.survival import harrell_c

    t, e, r = (np.asarray(a) for a in (time, event, risk))

    def metric(ix: np.ndarray) -> float:
        return harrell_c(t[ix], e[ix], r[ix]) if e[ix].sum() else float("nan")

    return bootstrap_ci(metric, len(t), n_boot=n_boot, seed=seed)
