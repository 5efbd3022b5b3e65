"""Synthetic survival data with a known survival function, and fold predictions of it (tests, benches).

Times follow a Weibull proportional-hazards model
``S(t | x) = exp(-(t / scale_days)^shape * exp(lp))``, censoring is uniform on ``[0, censor_days]``.
A model that outputs ``lp`` is calibrated by construction; see :func:`true_survival`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SurvivalSample:
    """One draw: linear predictor ``lp [N]``, observed ``time`` (days) ``[N]``, ``event`` 1/0 ``[N]``."""

    lp: np.ndarray
    time: np.ndarray
    event: np.ndarray
    scale_days: float
    shape: float


def weibull_sample(n: int, seed: int = 0, scale_days: float = 1200.0, shape: float = 1.3, sd_lp: float = 1.0,
                   censor_days: float = 4000.0) -> SurvivalSample:
    """``n`` patients with ``lp ~ N(0, sd_lp^2)`` and Weibull PH event times, uniformly censored."""
    rng = np.random.default_rng(seed)
    lp = rng.normal(0.0, sd_lp, n)
    t_event = scale_days * (-np.log(rng.uniform(size=n)) / np.exp(lp)) ** (1.0 / shape)
    t_cens = rng.uniform(0.0, censor_days, n)
    return SurvivalSample(lp, np.minimum(t_event, t_cens), (t_event <= t_cens).astype(int), scale_days, shape)


def true_survival(sample: SurvivalSample, t: np.ndarray, lp: np.ndarray | None = None) -> np.ndarray:
    """The generating ``S(t_i | lp_i)`` elementwise (``lp`` default: the sample's own). Shapes: ``[N]``."""
    lp = sample.lp if lp is None else lp
    return np.exp(-((np.asarray(t, float) / sample.scale_days) ** sample.shape) * np.exp(lp))


@dataclass
class Preds:
    """Minimal stand-in for ``clinfusion.training.cv.FoldPredictions``."""

    model: str
    fold: int
    train_ids: list[str]
    test_ids: list[str]
    train_risk: np.ndarray
    test_risk: np.ndarray
    test_proba: np.ndarray | None = None


def fold_predictions(sample: SurvivalSample, risks: dict[str, np.ndarray], k: int = 5,
                     test_risks: dict[str, np.ndarray] | None = None) -> tuple[list[Preds], object]:
    """K-fold predictions of every model in ``risks`` (``[N]`` each; ``test_risks`` may give other
    risks for the held-out patients, e.g. an overfitted model), plus the ``outcomes`` callable."""
    n = len(sample.time)
    ids = [f"p{i:05d}" for i in range(n)]
    fold_of = np.arange(n) % k
    preds = []
    for name, r in risks.items():
        rt = (test_risks or {}).get(name, r)
        for f in range(k):
            te, tr = np.flatnonzero(fold_of == f), np.flatnonzero(fold_of != f)
            preds.append(Preds(name, f, [ids[i] for i in tr], [ids[i] for i in te], np.asarray(r)[tr], np.asarray(rt)[te]))
    index = {p: i for i, p in enumerate(ids)}

    def outcomes(pids):
        ix = np.array([index[p] for p in pids])
        return sample.time[ix], sample.event[ix], np.full(len(ix), -1)

    return preds, outcomes
