"""Paired comparisons: t over folds, corrected repeated-CV t, bootstrap on shared patients."""

from __future__ import annotations

import math

import numpy as np
import pytest
from clinfusion.evaluation.paired import (
    bootstrap_cindex,
    bootstrap_diff,
    check_same_folds,
    compare_pair,
    corrected_paired_t,
    paired_t,
)
from clinfusion.evaluation.summary import summarize
from clinfusion.testing.survival import fold_predictions, weibull_sample


def test_paired_t_matches_a_hand_computation():
    d = [0.02, -0.01, 0.03, 0.00, 0.01]
    # mean 0.01; sd = sqrt(sum((d-0.01)^2)/4) = sqrt(0.0010/4) = 0.0158114; t_{0.975,4} = 2.776445
    half = 2.776445105 * math.sqrt(0.0010 / 4) / math.sqrt(5)
    res = paired_t(d)
    assert res["mean"] == pytest.approx(0.01)
    assert res["sd"] == pytest.approx(math.sqrt(0.0010 / 4))
    assert (res["low"], res["high"]) == pytest.approx((0.01 - half, 0.01 + half), abs=1e-9)
    assert res["n"] == 5


def test_paired_t_needs_two_differences():
    assert np.isnan(paired_t([0.1])["low"]) and paired_t([0.1, np.nan])["n"] == 1


def test_corrected_t_is_wider_than_the_naive_one():
    d = np.random.default_rng(0).normal(0.01, 0.02, 25)  # 5 repeats x 5 folds
    naive, corr = paired_t(d), corrected_paired_t(d, test_fraction=1 / 4)
    assert corr["mean"] == naive["mean"]
    # half-width ratio = sqrt(1/J + 1/4) / sqrt(1/J) with J = 25
    ratio = (corr["high"] - corr["low"]) / (naive["high"] - naive["low"])
    assert ratio == pytest.approx(math.sqrt(1 / 25 + 1 / 4) / math.sqrt(1 / 25))


def test_bootstrap_scores_every_model_on_the_same_patients():
    s = weibull_sample(150, seed=0)
    r = s.lp + np.random.default_rng(1).normal(0, 1, 150)
    boot = bootstrap_cindex(s.time, s.event, {"a": r, "b": r.copy(), "c": -r}, n_boot=50, seed=3)
    assert np.array_equal(boot["a"], boot["b"])  # the same model twice: identical in every resample
    assert np.allclose(boot["a"] + boot["c"], 1.0)  # reversed ranking on the same patients: C and 1 - C
    same = bootstrap_diff(boot["a"], boot["b"])
    assert (same["low"], same["high"], same["n_boot"]) == (0.0, 0.0, 50)


def test_summarize_compares_with_best_baseline_and_fusion():
    s = weibull_sample(300, seed=2)
    rng = np.random.default_rng(0)
    risks = {"fusion": s.lp + rng.normal(0, 1.5, 300), "coxnet": s.lp + rng.normal(0, 0.5, 300),
             "clinical_cox": rng.normal(size=300), "stack": s.lp + rng.normal(0, 0.5, 300)}
    preds, outcomes = fold_predictions(s, risks)
    res = summarize(preds, outcomes, n_boot=50, seed=0, default_model="stack")
    assert res["stack"]["paired_vs_best"]["vs"] == "coxnet"  # the default model is never a reference
    assert res["coxnet"]["paired_vs_best"]["diff_mean"] == 0.0
    assert res["coxnet"]["paired_vs_best"]["bootstrap_ci95"] == [0.0, 0.0]
    p = res["fusion"]["paired_vs_best"]
    by_fold = [f - b for f, b in zip(res["fusion"]["cindex"], res["coxnet"]["cindex"], strict=True)]
    assert p["per_fold"] == pytest.approx(by_fold)
    assert (p["t_ci95"][0], p["t_ci95"][1]) == pytest.approx((paired_t(by_fold)["low"], paired_t(by_fold)["high"]))
    assert p["t_ci95"][1] < 0  # a much noisier risk: clearly worse
    assert res["coxnet"]["paired_vs_fusion"]["vs"] == "fusion" and res["coxnet"]["paired_vs_fusion"]["diff_mean"] > 0
    assert {"calibration", "calibration_slope", "d_calibration_p", "cindex_ci95_t"} <= set(res["stack"])


def test_different_folds_are_refused():
    s = weibull_sample(50, seed=0)
    a, _ = fold_predictions(s, {"a": s.lp}, k=5)
    b, _ = fold_predictions(s, {"b": s.lp}, k=5)
    b[0].test_ids, b[1].test_ids = b[1].test_ids, b[0].test_ids
    with pytest.raises(ValueError, match="fold 0"):
        check_same_folds(a, b)


def test_compare_pair_of_a_model_with_itself_is_exactly_zero():
    s = weibull_sample(120, seed=4)
    r = s.lp + np.random.default_rng(2).normal(0, 1, 120)
    preds, outcomes = fold_predictions(s, {"a": r, "a_again": r, "noise": np.random.default_rng(3).normal(size=120)})
    same = compare_pair(preds, "a", "a_again", outcomes, n_boot=40, seed=1)
    assert same["per_fold"] == [0.0] * 5 and same["t_ci95"] == [0.0, 0.0]
    assert same["bootstrap_ci95"] == [0.0, 0.0] and same["diff_pooled"] == 0.0
    other = compare_pair(preds, "a", "noise", outcomes, n_boot=40, seed=1)
    assert other["diff_mean"] > 0 and other["bootstrap_ci95"][0] < other["diff_pooled"] < other["bootstrap_ci95"][1]
    with pytest.raises(ValueError, match="no fold predictions of model 'missing'"):
        compare_pair(preds, "a", "missing", outcomes)


def test_summarize_leaves_a_model_on_other_folds_unpaired():
    s = weibull_sample(100, seed=5)
    preds, outcomes = fold_predictions(s, {"fusion": s.lp, "coxnet": -s.lp})
    odd, _ = fold_predictions(s, {"rsf": s.lp}, k=4)
    res = summarize(preds + odd, outcomes, n_boot=0)
    assert "paired_vs_best" not in res["rsf"] and "different folds" in res["rsf"]["paired_note"]
    assert res["fusion"]["paired_vs_best"]["vs"] == "coxnet"
