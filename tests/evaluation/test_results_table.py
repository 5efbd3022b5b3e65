"""The results table: default model first, paired and calibration columns."""

from __future__ import annotations

import numpy as np
from clinfusion.evaluation.summary import model_role, ordered_models, paired_cell, results_table, summarize
from clinfusion.testing.survival import fold_predictions, weibull_sample


def _result(default: str) -> dict:
    s = weibull_sample(200, seed=1)
    rng = np.random.default_rng(0)
    names = ("fusion", "clinical_cox", "coxnet", "unimodal_ecg", "rsf", "stack")
    preds, outcomes = fold_predictions(s, {m: s.lp + rng.normal(0, 1, 200) for m in names})
    return {"models": summarize(preds, outcomes, n_boot=20, seed=0, default_model=default),
            "default_model": default, "oracle": {"cindex": 0.9}}


def test_default_model_first_then_architectures_baselines_unimodal_oracle():
    table = results_table(_result("stack"))
    assert list(table["model"]) == ["stack", "fusion", "clinical_cox", "coxnet", "rsf", "unimodal_ecg", "oracle"]
    assert list(table["role"][:3]) == ["default", "architecture", "baseline"]
    cols = list(table.columns)
    assert [c for c in cols if c.startswith("ΔC vs")][-1] == "ΔC vs fusion"
    assert {"C", "C 95% CI", "IBS", "D-cal p", "cal slope"} <= set(cols)


def test_train_model_fusion_puts_fusion_first():
    result = _result("fusion")
    assert ordered_models(result)[0] == "fusion"
    assert results_table(result)["model"].iloc[0] == "fusion"


def test_reference_rows_and_significance_marks():
    table = results_table(_result("stack"))
    best = [c for c in table.columns if c.startswith("ΔC vs") and c != "ΔC vs fusion"][0].removeprefix("ΔC vs ")
    assert table.set_index("model").loc[best, f"ΔC vs {best}"] == "ref"
    assert table.set_index("model").loc["fusion", "ΔC vs fusion"] == "ref"
    assert paired_cell({"vs": "x", "diff_mean": 0.02, "t_ci95": [0.01, 0.03]}, "y").endswith("*")
    assert not paired_cell({"vs": "x", "diff_mean": 0.02, "t_ci95": [-0.01, 0.05],
                            "bootstrap_ci95": [-0.02, 0.04]}, "y").endswith("*")


def test_roles():
    assert model_role("stack", "stack") == "default" and model_role("stack") == "other"
    assert model_role("multimodn") == "architecture" and model_role("rsf_clinical") == "baseline"
    assert model_role("unimodal_genomics") == "unimodal"


def test_every_registered_architecture_has_the_architecture_role():
    from clinfusion.evaluation.summary import ARCHITECTURES
    from clinfusion.training.architectures import ARCHITECTURES as registered

    assert set(registered) <= set(ARCHITECTURES)


def test_paired_sentences_say_what_the_intervals_allow():
    from clinfusion.evaluation.summary import paired_sentences

    near = {"vs": "coxnet", "diff_mean": 0.01, "t_ci95": [-0.02, 0.04], "bootstrap_ci95": [-0.01, 0.03]}
    far = {"vs": "fusion", "diff_mean": 0.05, "t_ci95": [0.01, 0.09], "bootstrap_ci95": [0.02, 0.08]}
    result = {"default_model": "stack", "n_patients": 120, "models": {
        "stack": {"paired_vs_best": near, "paired_vs_fusion": far},
        "fusion": {"paired_vs_best": {**near, "diff_mean": -0.04}, "paired_vs_fusion": {**far, "vs": "fusion"}}}}
    lines = paired_sentences(result)
    assert len(lines) == 3 and lines[0].startswith("stack - coxnet: ΔC +0.010")
    assert "120 patients do not separate them" in lines[0] and lines[2].endswith("an interval excludes 0")
    assert lines[1].startswith("fusion - coxnet")
