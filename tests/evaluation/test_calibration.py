"""Calibration: Breslow survival from risks, D-calibration, calibration slope, KM per risk group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clinfusion.evaluation.calibration import (
    BreslowSurvival,
    calibration_at,
    cox_slope,
    d_calibration,
    km_at,
    model_calibration,
)
from clinfusion.testing.survival import fold_predictions, true_survival, weibull_sample


def test_cox_slope_matches_lifelines_without_ties():
    from lifelines import CoxPHFitter

    s = weibull_sample(400, seed=3)
    x = s.lp + np.random.default_rng(0).normal(0, 0.5, 400)
    beta, se = cox_slope(x, s.time, s.event)
    ref = CoxPHFitter().fit(pd.DataFrame({"x": x, "T": s.time, "E": s.event}), "T", "E")
    assert beta == pytest.approx(ref.params_["x"], abs=1e-4)
    assert se == pytest.approx(ref.standard_errors_["x"], rel=1e-3)


def test_breslow_baseline_matches_a_hand_computation():
    # times 1,2,3,4 (events at 1 and 3), beta = 0 when the risk is constant: H0 = 1/4 then 1/4 + 1/2
    fit = BreslowSurvival.fit(np.zeros(4), np.array([1.0, 2, 3, 4]), np.array([1, 0, 1, 0]))
    assert fit.beta == 0.0
    assert fit.baseline(np.array([0.5, 1, 2.5, 3, 10])) == pytest.approx([0, 0.25, 0.25, 0.75, 0.75])
    assert fit.survival(np.zeros(1), np.array([3.0]))[0, 0] == pytest.approx(np.exp(-0.75))


def test_km_at_matches_lifelines():
    from lifelines import KaplanMeierFitter

    s = weibull_sample(200, seed=4)
    ref = KaplanMeierFitter().fit(s.time, s.event).predict(800.0)
    assert km_at(s.time, s.event, 800.0) == pytest.approx(ref, abs=1e-12)
    assert np.isnan(km_at(np.array([10.0, 20]), np.array([0, 0]), 30.0))  # nobody followed up to 30 days


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_d_calibration_of_the_true_survival_function_is_not_rejected(seed):
    s = weibull_sample(3000, seed=seed)
    res = d_calibration(true_survival(s, s.time), s.event)
    assert sum(res["bins"]) == pytest.approx(3000)  # censored patients spread exactly one unit each
    assert res["p"] > 0.01


def test_d_calibration_rejects_a_miscalibrated_survival_function():
    s = weibull_sample(3000, seed=0)
    too_optimistic = true_survival(s, s.time, lp=s.lp - 1.0)  # hazard e times too low
    assert d_calibration(too_optimistic, s.event)["p"] < 1e-6
    too_extreme = true_survival(s, s.time, lp=2.5 * s.lp)
    assert d_calibration(too_extreme, s.event)["p"] < 1e-6


def test_d_calibration_spreads_a_censored_patient_below_its_survival():
    res = d_calibration(np.array([0.25]), np.array([0]), bins=4)  # u uniform on [0, 0.25): all in bin 0
    assert res["bins"] == pytest.approx([1.0, 0.0, 0.0, 0.0])
    res = d_calibration(np.array([0.6]), np.array([0]), bins=4)  # 0.25/0.6 to bins 0, 1; 0.1/0.6 to bin 2
    assert res["bins"] == pytest.approx([0.25 / 0.6, 0.25 / 0.6, 0.1 / 0.6, 0.0], abs=1e-4)


def test_out_of_fold_calibration_of_a_calibrated_model():
    s = weibull_sample(2000, seed=5)
    preds, outcomes = fold_predictions(s, {"truth": s.lp})
    cal = model_calibration(preds, outcomes)
    assert cal["time_unit"] == "days" and set(cal["horizons"]) == {"1y", "3y", "5y"}
    assert cal["slope"] == pytest.approx(1.0, abs=0.1)
    assert cal["d_calibration"]["p"] > 0.01
    one = cal["horizons"]["1y"]
    assert one["horizon_days"] == pytest.approx(365.25) and len(one["groups"]) == 10
    assert one["mean_abs_error"] < 0.05
    pred = [g["predicted"] for g in one["groups"]]
    assert pred == sorted(pred)  # groups from the lowest predicted survival up


def test_out_of_fold_calibration_catches_an_overfitted_model():
    # training risks tell the truth, held-out risks are three times too extreme: slope ~1/3
    s = weibull_sample(2000, seed=6)
    preds, outcomes = fold_predictions(s, {"overfit": s.lp}, test_risks={"overfit": 3 * s.lp})
    cal = model_calibration(preds, outcomes)
    assert cal["slope"] == pytest.approx(1 / 3, abs=0.06)
    assert cal["d_calibration"]["p"] < 1e-6
    assert cal["horizons"]["1y"]["mean_abs_error"] > 0.05


def test_a_scale_free_score_gets_the_same_survival_as_its_log_hazard():
    s = weibull_sample(500, seed=7)
    times = np.array([365.25, 1000.0])
    a = BreslowSurvival.fit(s.lp, s.time, s.event).survival(s.lp[:5], times)
    b = BreslowSurvival.fit(10 * s.lp + 3, s.time, s.event).survival(10 * s.lp[:5] + 3, times)  # linear rescaling
    assert a == pytest.approx(b, abs=1e-6)


def test_calibration_at_leaves_unobserved_groups_out():
    pred = np.linspace(0.1, 0.9, 20)
    time = np.full(20, 100.0)
    res = calibration_at(pred, time, np.zeros(20, int), horizon_days=365.25, groups=4)
    assert res["groups_observed"] == 0 and np.isnan(res["mean_abs_error"])


def test_calibration_plot_writes_a_png(tmp_path):
    from clinfusion.evaluation.calibration_plot import calibration_plots

    s = weibull_sample(300, seed=8)
    preds, outcomes = fold_predictions(s, {"truth": s.lp})
    models = {"truth": {"calibration": model_calibration(preds, outcomes)}, "no_calibration": {}}
    paths = calibration_plots(models, ["truth", "no_calibration", "absent"], tmp_path)
    assert [p.name for p in paths] == ["calibration_truth.png"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_honest_training_risks_replace_in_sample_ones():
    # in-sample training risks three times too extreme (an overfitted learner), held-out risks honest
    s = weibull_sample(2000, seed=9)
    preds, outcomes = fold_predictions(s, {"m": 3 * s.lp}, test_risks={"m": s.lp})
    assert model_calibration(preds, outcomes)["slope"] == pytest.approx(3.0, rel=0.15)
    for p in preds:
        p.calibration_train_risk = p.train_risk / 3  # what the model's inner out-of-fold risks would be
    assert model_calibration(preds, outcomes)["slope"] == pytest.approx(1.0, abs=0.1)
