"""Cox-model bookkeeping on arrays, shared by ``models`` (the stack's meta-learner and its survival
curves) and ``evaluation`` (calibration's survival function from any risk): risk sets and the
Breslow baseline cumulative hazard. NumPy only; imports nothing of clinfusion, so both layer-9
packages, which must not import each other, use the one copy.

Times are in days (the unit of ``clinical.csv``'s ``survival_time``); ``eta`` is a linear predictor
(log relative hazard); events are 0/1 (or bool).
"""

from __future__ import annotations

import numpy as np


def risk_set_index(time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order by decreasing time and, per patient, the position in that order that closes its risk
    set: ``cumsum[end[i]]`` over the sorted patients is the sum over ``{j: T_j >= T_i}`` (ties
    included, Breslow).

    Shapes:
        time: ``[N]`` days; returns ``(order [N], end [N])`` integer arrays.
    """
    order = np.argsort(-time, kind="stable")
    t_sorted = time[order]
    # last position of each tie group in decreasing order = position of the smallest index with t <= t_i
    end_sorted = np.searchsorted(-t_sorted, -t_sorted, side="right") - 1
    end = np.empty_like(end_sorted)
    end[order] = end_sorted
    return order, end


def breslow_cumhaz(eta: np.ndarray, time: np.ndarray, event: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Breslow baseline cumulative hazard ``H0(t) = sum_{t_i <= t, event} 1 / sum_{T_j >= t_i} exp(eta_j)``.

    Tied event times each add their own ``1 / risk-set sum`` (the same sum for the whole tie group),
    i.e. ``d / sum`` per distinct time. ``exp`` is taken relative to ``max(eta)`` so large linear
    predictors do not overflow.

    Shapes:
        eta, time (days), event: ``[N]``; at: ``[T]`` times (days); returns ``[T]``.
    """
    eta, time, event = np.asarray(eta, float), np.asarray(time, float), np.asarray(event, int)
    w = np.exp(eta - eta.max())
    order, end = risk_set_index(time)
    s0 = np.cumsum(w[order])[end]
    ev = event == 1
    jumps = np.exp(-eta.max()) / s0[ev]  # exp(-max) underflows quietly to 0 where exp(max) would overflow
    t_ev = time[ev]
    srt = np.argsort(t_ev)
    cum = np.concatenate([[0.0], np.cumsum(jumps[srt])])
    return cum[np.searchsorted(t_ev[srt], np.asarray(at, float), side="right")]
