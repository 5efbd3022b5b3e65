"""The super learner's meta-learner: non-negative Cox on z-scored candidate risks, and Breslow."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.coxmath import breslow_cumhaz
from clinfusion.models.stack import Standardizer, cox_nll, fit_nonnegative_cox


def _naive_nll(beta, z, time, event):
    """Breslow partial likelihood, one loop per event (the reference)."""
    eta = z @ beta
    total = 0.0
    for i in np.flatnonzero(event):
        risk_set = time >= time[i]
        total -= eta[i] - np.log(np.exp(eta[risk_set]).sum())
    return total / event.sum()


def _toy(n=400, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=n)
    t_event = rng.exponential(np.exp(-1.5 * truth))
    t_cens = rng.exponential(2.0, size=n)
    time = np.round(np.minimum(t_event, t_cens), 2)  # rounding makes ties
    event = (t_event <= t_cens).astype(int)
    return rng, truth, time, event


def test_partial_likelihood_matches_a_naive_loop_with_ties_and_its_gradient():
    rng, _, time, event = _toy(60)
    z = rng.normal(size=(60, 3))
    beta = np.array([0.3, 0.0, 0.8])
    value, grad = cox_nll(beta, z, time, event)
    assert len(np.unique(time)) < len(time)
    assert value == pytest.approx(_naive_nll(beta, z, time, event), rel=1e-10)
    eps = 1e-6
    numeric = [(cox_nll(beta + eps * np.eye(3)[j], z, time, event)[0] - cox_nll(beta - eps * np.eye(3)[j], z, time, event)[0])
               / (2 * eps) for j in range(3)]
    assert np.allclose(grad, numeric, atol=1e-6)


def test_the_candidate_that_is_the_truth_gets_almost_all_the_weight():
    rng, truth, time, event = _toy(1500)
    noisy = truth + rng.normal(scale=2.0, size=len(truth))          # a weak but honest candidate
    candidates = np.column_stack([rng.normal(size=len(truth)), noisy, truth, -truth])
    z = np.column_stack([Standardizer.fit(c).apply(c) for c in candidates.T])
    beta = fit_nonnegative_cox(z, time, event, ridge=0.01)
    assert (beta >= 0).all()
    share = beta / beta.sum()
    assert share[2] > 0.9, share
    assert beta[3] == 0.0  # the anti-correlated candidate cannot enter with a negative weight


def test_weights_are_non_negative_even_when_every_candidate_is_harmful():
    rng, truth, time, event = _toy(200, seed=3)
    z = np.column_stack([-truth, -truth + rng.normal(size=200)])
    beta = fit_nonnegative_cox(z, time, event)
    assert (beta >= 0).all() and beta.sum() < 1e-6


def test_meta_learner_rejects_bad_inputs():
    with pytest.raises(ValueError, match="no event"):
        fit_nonnegative_cox(np.zeros((3, 1)), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"\[N, C\]"):
        fit_nonnegative_cox(np.zeros((3, 1)), np.ones(4), np.ones(4))


def test_breslow_matches_a_naive_sum_and_the_nelson_aalen_estimator_at_zero_risk():
    rng, _, time, event = _toy(50, seed=1)
    eta = rng.normal(size=50)
    at = np.array([0.0, 0.1, 0.5, 1.0, 10.0])
    naive = [sum(1 / np.exp(eta[time >= time[i]]).sum() for i in np.flatnonzero(event) if time[i] <= t) for t in at]
    assert np.allclose(breslow_cumhaz(eta, time, event, at), naive)
    from lifelines import NelsonAalenFitter

    na = NelsonAalenFitter(nelson_aalen_smoothing=False).fit(time, event)
    ref = na.cumulative_hazard_at_times(at).to_numpy()
    assert np.allclose(breslow_cumhaz(np.zeros(50), time, event, at), ref, atol=1e-8)
