"""The super learner inside a training fold: weights, the test fold never used, reuse of fits."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.training import candidates as cands
from clinfusion.training import cohort_from_frames, load_train_config
from clinfusion.training.cv import default_splits, run_fold
from clinfusion.training.stacking import fit_stack, stack_names

TINY = {"model": {"hidden": 8, "n_bins": 2}, "optim": {"epochs": 2, "patience": 1}, "bootstrap": 0,
        "stack": {"inner_folds": 3, "inner_override": {"optim": {"epochs": 1}}}}


@dataclass
class LookupFitted:
    """A 'model' whose risk is a fixed number per patient."""

    name: str
    values: dict

    def risk(self, data, ids):
        return np.array([self.values[p] for p in ids], float)


@dataclass(frozen=True)
class LookupCandidate:
    name: str
    values: dict

    def fit(self, data, train_ids, config, inner_val):
        return LookupFitted(self.name, self.values)


def _cohort(n):
    c = make_token_cohort(n, ("genomics",), signal=1.0, seed=4)
    data = cohort_from_frames(c.clinical, c.tokens)
    truth = dict(zip(c.patient_ids, c.risk, strict=True))
    return data, {p: truth[p] for p in data.patient_ids}


@pytest.fixture(scope="module")
def cohort():
    return _cohort(160)


def test_the_candidate_that_is_the_truth_gets_almost_all_the_weight(monkeypatch):
    data, truth = _cohort(500)  # the clinical Cox is a noisy copy of the truth: it fades as n grows
    rng = np.random.default_rng(0)
    monkeypatch.setitem(cands.CANDIDATES, "oracle", LookupCandidate("oracle", truth))
    monkeypatch.setitem(cands.CANDIDATES, "noise", LookupCandidate("noise", {p: rng.normal() for p in truth}))
    monkeypatch.setitem(cands.CANDIDATES, "anti", LookupCandidate("anti", {p: -v for p, v in truth.items()}))
    cfg = load_train_config(TINY)
    train = data.patient_ids[:400]
    stack = fit_stack(data, train, cfg, ["noise", "oracle", "anti", "clinical_cox"])
    assert all(w >= 0 for w in stack.weights.values())
    assert stack.shares()["oracle"] > 0.9, stack.report()
    assert stack.weights["anti"] == 0.0 and "anti" not in stack.members
    test = data.patient_ids[400:]
    assert np.corrcoef(stack.risk(data, test), [truth[p] for p in test])[0, 1] > 0.95
    assert set(stack.report()["inner_cindex"]) == {"noise", "oracle", "anti", "clinical_cox"}


def test_refit_reuses_the_folds_fits_and_a_single_candidate_needs_no_inner_folds(cohort, monkeypatch):
    data, truth = cohort
    monkeypatch.setitem(cands.CANDIDATES, "oracle", LookupCandidate("oracle", truth))
    cfg = load_train_config(TINY)
    given = LookupFitted("oracle", truth)
    stack = fit_stack(data, data.patient_ids[:100], cfg, ["oracle"], fitted={"oracle": given})
    assert stack.weights == {"oracle": 1.0} and stack.inner_cindex == {}
    assert stack.members["oracle"] is given


def test_stack_candidates_default_to_fusion_and_the_rows_that_apply(cohort):
    data, _ = cohort
    cfg = load_train_config(TINY)
    names = stack_names(data, cfg, ["fusion", "unimodal_genomics", "clinical_cox", "coxnet_genomics_clinical", "stack"])
    assert names == ["fusion", "clinical_cox", "coxnet_genomics_clinical"]
    no_cov = replace(data, covariates=data.covariates.iloc[:, :0])
    assert stack_names(no_cov, cfg, ["fusion", "clinical_cox", "rsf"]) == ["fusion", "rsf"]
    explicit = load_train_config({**TINY, "stack": {"candidates": ["rsf", "coxnet"]}})
    assert stack_names(data, explicit, ["fusion"]) == ["rsf", "coxnet"]


@pytest.mark.slow
def test_poisoned_test_fold_labels_change_nothing(cohort):
    """Every model of a fold, the stack's weights and its test-fold risks depend on the training part only."""
    data, _ = cohort
    data = replace(data, patient_ids=data.patient_ids[:60], time=data.time[:60], event=data.event[:60],
                   diagnosis=data.diagnosis[:60], covariates=data.covariates.iloc[:60].reset_index(drop=True),
                   tokens={m: {p: t for p, t in per.items() if p in set(data.patient_ids[:60])} for m, per in data.tokens.items()})
    cfg = load_train_config({**TINY, "baselines": ["clinical_cox", "coxnet", "rsf_clinical_genes"]})
    split = default_splits(data, 3, 0)[0]
    test = data.index(list(split.val))
    time, event = data.time.copy(), data.event.copy()
    time[test] = time[test].max() + 1.0 - time[test]   # reversed order of the test patients' times
    event[test] = 1 - event[test]
    poisoned = replace(data, time=time, event=event)
    a, b = run_fold(data, split, cfg), run_fold(poisoned, split, cfg)
    assert a.stack.weights == b.stack.weights and len(a.stack.weights) == 4
    for pa, pb in zip(a.predictions, b.predictions, strict=True):
        assert pa.model == pb.model
        assert np.array_equal(pa.test_risk, pb.test_risk), pa.model
    assert [p.model for p in a.predictions][-1] == "stack"
