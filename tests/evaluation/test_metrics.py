from __future__ import annotations

import numpy as np
import pytest
from clinfusion.evaluation import (
    diagnosis_metrics,
    eval_times,
    harrell_c,
    harrell_c_ci,
    ibs,
    risk_groups,
    risk_to_survival,
    td_auc,
    uno_c,
)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    risk = rng.normal(size=80)
    time = rng.exponential(100 * np.exp(-risk))
    event = (rng.uniform(size=80) < 0.7).astype(int)
    return time, event, risk + rng.normal(scale=0.8, size=80)


def test_harrell_matches_sksurv(data):
    from sksurv.metrics import concordance_index_censored

    time, event, risk = data
    ref = concordance_index_censored(event.astype(bool), time, risk)[0]
    assert harrell_c(time, event, risk) == pytest.approx(ref, abs=1e-9)
    lo, hi = harrell_c_ci(time, event, risk, n_boot=100)
    assert lo < harrell_c(time, event, risk) < hi


def test_uno_equals_harrell_without_censoring(data):
    time, _, risk = data
    event = np.ones_like(time, dtype=int)
    assert uno_c(time, event, time, event, risk, tau=time.max() + 1) == pytest.approx(harrell_c(time, event, risk), abs=1e-9)


def test_td_auc_equals_roc_auc_without_censoring(data):
    from sklearn.metrics import roc_auc_score

    time, _, risk = data
    event = np.ones_like(time, dtype=int)
    t = float(np.median(time))
    ref = roc_auc_score(time <= t, risk)
    assert td_auc(time, event, time, event, risk, np.array([t])) == pytest.approx(ref, abs=1e-9)


def test_ibs_against_direct_formula_without_censoring(data):
    time, _, risk = data
    event = np.ones_like(time, dtype=int)
    times = eval_times(time, event, time)
    surv = risk_to_survival(risk, time, event, risk, times)
    assert surv.shape == (80, len(times))
    assert np.all(np.diff(surv, axis=1) <= 1e-12)
    bs = [np.mean(((time > t).astype(float) - surv[:, i]) ** 2) for i, t in enumerate(times)]
    ref = np.trapezoid(bs, times) / (times[-1] - times[0])
    assert ibs(time, event, time, event, surv, times) == pytest.approx(ref, rel=1e-6)


def test_risk_groups_logrank(data):
    time, event, risk = data
    g = risk_groups(risk, time, event, risk)
    assert g.high.sum() == 40
    assert g.logrank_p < 0.05
    from lifelines.statistics import logrank_test

    ref = logrank_test(time[g.high], time[~g.high], event[g.high], event[~g.high]).p_value
    assert g.logrank_p == pytest.approx(ref)


def test_diagnosis_metrics_binary_and_multiclass():
    from sklearn.metrics import roc_auc_score

    y = np.array([0, 0, 1, 1, 1, -1])
    p1 = np.array([0.1, 0.6, 0.4, 0.8, 0.9, 0.5])
    proba = np.stack([1 - p1, p1], 1)
    m = diagnosis_metrics(y, proba)
    assert m["auroc"] == pytest.approx(roc_auc_score(y[:5], p1[:5]))
    assert m["balanced_accuracy"] == pytest.approx((0.5 + 2 / 3) / 2)
    y3 = np.array([0, 1, 2, 0, 1, 2])
    m3 = diagnosis_metrics(y3, np.eye(3)[y3] * 0.8 + 0.1)
    assert m3["auroc"] == pytest.approx(1.0)
    assert m3["balanced_accuracy"] == pytest.approx(1.0)
    assert np.isnan(diagnosis_metrics(np.zeros(3, int), np.ones((3, 2)) / 2)["auroc"])
