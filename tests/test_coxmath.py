"""The one Breslow baseline (clinfusion.coxmath), used by the stack (models) and calibration (evaluation)."""

from __future__ import annotations

import numpy as np
from clinfusion.coxmath import breslow_cumhaz, risk_set_index


def test_risk_set_index_sums_over_everyone_still_at_risk_ties_included():
    time = np.array([3.0, 1.0, 3.0, 2.0, 5.0])
    w = np.array([1.0, 10.0, 100.0, 1000.0, 10000.0])
    order, end = risk_set_index(time)
    got = np.cumsum(w[order])[end]
    assert np.array_equal(got, [w[time >= t].sum() for t in time])


def test_tied_event_times_add_events_over_the_shared_risk_set():
    # two events tied at t=2 (risk set: everyone with T >= 2), one event at t=4, censoring at 3 and 5
    time = np.array([2.0, 2.0, 3.0, 4.0, 5.0, 1.0])
    event = np.array([1, 1, 0, 1, 0, 0])
    eta = np.array([0.5, -1.0, 2.0, 0.0, 1.0, 3.0])
    w = np.exp(eta)
    h2 = 2 / w[time >= 2].sum()
    h4 = h2 + 1 / w[time >= 4].sum()
    at = np.array([0.0, 1.0, 2.0, 2.5, 4.0, 10.0])
    assert np.allclose(breslow_cumhaz(eta, time, event, at), [0, 0, h2, h2, h4, h4], rtol=1e-14, atol=0)


def test_large_linear_predictors_do_not_overflow():
    time = np.array([1.0, 2.0, 3.0])
    event = np.array([1, 1, 1])
    eta = np.array([800.0, 799.0, 798.0])  # exp(800) overflows float64
    h = breslow_cumhaz(eta, time, event, np.array([3.0]))
    expected = sum(1 / np.exp(eta[i:] - 800).sum() for i in range(3)) * np.exp(-800.0)
    assert np.isfinite(h).all() and np.isclose(h[0], expected, rtol=1e-12, atol=0)


def test_calibration_survival_uses_the_same_baseline():
    from clinfusion.evaluation.calibration import BreslowSurvival

    rng = np.random.default_rng(0)
    risk = rng.normal(size=60)
    time = np.round(rng.exponential(300, 60) / 30) * 30  # ties
    event = rng.random(60) < 0.6
    fit = BreslowSurvival.fit(risk, time, event)
    lp = fit.lp(risk)
    assert np.array_equal(fit.times, np.unique(time[event]))
    assert np.array_equal(fit.cum_hazard, breslow_cumhaz(lp, time, event, fit.times))
    naive = [sum(event[time == u].sum() / np.exp(lp[time >= u]).sum() for u in fit.times if u <= t) for t in fit.times]
    assert np.allclose(fit.cum_hazard, naive, rtol=1e-12, atol=0)
