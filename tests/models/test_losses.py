from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from clinfusion.models.errors import ModelError
from clinfusion.models.losses import (
    bin_index,
    cox_ph_loss,
    discrete_risk,
    discrete_survival_nll,
    survival_bin_edges,
)

torch = pytest.importorskip("torch")


def _naive_cox(risk, time, event):
    """Breslow partial likelihood by a double loop."""
    total, n_ev = 0.0, 0
    for i in range(len(risk)):
        if event[i]:
            denom = sum(math.exp(risk[j]) for j in range(len(risk)) if time[j] >= time[i])
            total += risk[i] - math.log(denom)
            n_ev += 1
    return -total / n_ev


def test_cox_loss_matches_loop_with_ties():
    rng = np.random.default_rng(0)
    risk = rng.normal(size=25)
    time = rng.integers(1, 8, size=25).astype(float)  # many ties
    event = rng.integers(0, 2, size=25)
    got = cox_ph_loss(torch.tensor(risk), torch.tensor(time), torch.tensor(event)).item()
    assert got == pytest.approx(_naive_cox(risk, time, event), rel=1e-10)


def test_cox_loss_matches_lifelines_log_likelihood():
    from lifelines import CoxPHFitter

    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 2))
    time = rng.exponential(np.exp(-x @ np.array([0.8, -0.5])))  # continuous: no ties (Breslow = Efron)
    event = (rng.uniform(size=40) < 0.7).astype(int)
    df = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "T": time, "E": event})
    cph = CoxPHFitter().fit(df, "T", "E")
    eta = x @ cph.params_.to_numpy()
    loss = cox_ph_loss(torch.tensor(eta), torch.tensor(time), torch.tensor(event)).item()
    assert -loss * event.sum() == pytest.approx(cph.log_likelihood_, rel=1e-6)


def test_cox_loss_without_events_raises_or_returns_zero():
    risk = torch.randn(4, requires_grad=True)
    time, event = torch.arange(4.0), torch.zeros(4)
    with pytest.raises(ModelError, match="without events"):
        cox_ph_loss(risk, time, event)
    zero = cox_ph_loss(risk, time, event, on_no_events="zero")
    zero.backward()
    assert zero.item() == 0.0
    assert risk.grad is not None


def _naive_nll(logits, bins, event, alpha):
    h = 1 / (1 + np.exp(-logits))
    out = []
    for i in range(len(bins)):
        s = np.cumprod(1 - h[i])
        s_prev = 1.0 if bins[i] == 0 else s[bins[i] - 1]
        unc = -event[i] * (np.log(s_prev) + np.log(h[i, bins[i]]))
        cen = -(1 - event[i]) * np.log(s[bins[i]])
        out.append((1 - alpha) * (unc + cen) + alpha * unc)
    return float(np.mean(out))


@pytest.mark.parametrize("alpha", [0.0, 0.4])
def test_discrete_nll_matches_loop(alpha):
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(12, 4))
    bins = rng.integers(0, 4, size=12)
    event = rng.integers(0, 2, size=12)
    got = discrete_survival_nll(torch.tensor(logits), torch.tensor(bins), torch.tensor(event), alpha=alpha).item()
    assert got == pytest.approx(_naive_nll(logits, bins, event, alpha), rel=1e-6)
    r = discrete_risk(torch.tensor(logits)).numpy()
    assert r[0] == pytest.approx(-np.cumprod(1 - 1 / (1 + np.exp(-logits[0]))).sum())


def test_bins_from_event_time_quantiles():
    time = np.array([10, 20, 30, 40, 50, 60, 70, 80, 1000.0])
    event = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0])
    edges = survival_bin_edges(time, event, 4)
    assert edges[0] == 0 and np.isinf(edges[-1]) and len(edges) == 5
    assert edges[2] == pytest.approx(np.quantile(time[:8], 0.5))
    assert bin_index(np.array([0.0, 27.5, 1000.0, 5000.0]), edges).tolist() == [0, 1, 3, 3]
