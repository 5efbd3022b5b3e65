"""Survival metrics: Harrell's and Uno's C, time-dependent AUC, integrated Brier score, KM + log-rank.

Every function takes *risk* scores (higher = shorter survival). Survival curves, needed by the
Brier score, come from :func:`risk_to_survival`: a one-covariate Cox model of the score fitted on
the training fold (Breslow baseline), which turns any model's ranking into calibrated curves in
the same way, so models are compared on the same footing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _structured(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    from sksurv.util import Surv

    return Surv.from_arrays(np.asarray(event).astype(bool), np.asarray(time, dtype=float))


def harrell_c(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    """Harrell's concordance (lifelines); 0.5 is chance."""
    from lifelines.utils import concordance_index

    try:
        return float(concordance_index(np.asarray(time, float), -np.asarray(risk, float), np.asarray(event).astype(bool)))
    except ZeroDivisionError:  # no admissible pair (e.g. no events)
        return float("nan")


def eval_times(train_time: np.ndarray, train_event: np.ndarray, test_time: np.ndarray, n: int = 8) -> np.ndarray:
    """Horizons for td-AUC/IBS: test event-time percentiles 10..80 inside both follow-up ranges."""
    test_time = np.asarray(test_time, float)
    lo = max(np.min(test_time), np.min(train_time))
    hi = min(np.max(test_time), np.max(np.asarray(train_time)[np.asarray(train_event) == 1], initial=np.max(train_time)))
    grid = np.unique(np.percentile(test_time, np.linspace(10, 80, n)))
    return grid[(grid > lo) & (grid < hi)]


def uno_c(train_time, train_event, test_time, test_event, risk, tau: float | None = None) -> float:
    """Uno's IPCW concordance (sksurv) up to ``tau`` (default: the last test time below the train maximum)."""
    from sksurv.metrics import concordance_index_ipcw

    tr, te = _structured(train_time, train_event), _structured(test_time, test_event)
    tau = float(np.max(train_time)) * 0.999 if tau is None else tau
    return float(concordance_index_ipcw(tr, te, np.asarray(risk, float), tau=tau)[0])


def td_auc(train_time, train_event, test_time, test_event, risk, times: np.ndarray) -> float:
    """Mean cumulative/dynamic AUC over ``times`` (sksurv); NaN without usable horizons."""
    from sksurv.metrics import cumulative_dynamic_auc

    if len(times) == 0:
        return float("nan")
    _, mean = cumulative_dynamic_auc(_structured(train_time, train_event), _structured(test_time, test_event),
                                     np.asarray(risk, float), times)
    return float(mean)


def risk_to_survival(train_risk, train_time, train_event, test_risk, times: np.ndarray) -> np.ndarray:
    """Survival probabilities ``S(t | risk)`` from a Cox model of the score fitted on training data.

    Shapes:
        train_*: ``[N]``; test_risk: ``[M]``; times: ``[T]``; output: ``[M, T]``.
    """
    import pandas as pd
    from lifelines import CoxPHFitter

    r = np.asarray(train_risk, float)
    mu, sd = r.mean(), r.std() or 1.0
    df = pd.DataFrame({"r": (r - mu) / sd, "T": train_time, "E": train_event})
    cph = CoxPHFitter(penalizer=1e-4).fit(df, "T", "E")
    test = pd.DataFrame({"r": (np.asarray(test_risk, float) - mu) / sd})
    return cph.predict_survival_function(test, times=times).to_numpy().T


def ibs(train_time, train_event, test_time, test_event, surv: np.ndarray, times: np.ndarray) -> float:
    """Integrated Brier score (sksurv) of survival curves ``surv [M, T]`` at ``times``."""
    from sksurv.metrics import integrated_brier_score

    if len(times) < 2:
        return float("nan")
    return float(integrated_brier_score(_structured(train_time, train_event), _structured(test_time, test_event), surv, times))


@dataclass(frozen=True)
class RiskGroups:
    """Kaplan-Meier risk groups split at the median training risk.

    Attributes:
        threshold: the split (median of the training risks).
        high: boolean per test patient.
        logrank_p: log-rank test p-value high vs low (NaN when a group is empty).
    """

    threshold: float
    high: np.ndarray
    logrank_p: float


def risk_groups(train_risk, test_time, test_event, test_risk) -> RiskGroups:
    """High/low risk groups at the training median and the log-rank p-value (lifelines)."""
    from lifelines.statistics import logrank_test

    thr = float(np.median(train_risk))
    high = np.asarray(test_risk) > thr
    t, e = np.asarray(test_time, float), np.asarray(test_event)
    if high.all() or (~high).all():
        return RiskGroups(thr, high, float("nan"))
    p = logrank_test(t[high], t[~high], e[high], e[~high]).p_value
    return RiskGroups(thr, high, float(p))
