"""Contract of every built-in candidate: fits on a training fold, scores any patients, pickles,
and scores new patients given as bundles exactly as cohort patients."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from clinfusion.models.baselines import CoxNet
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.training import candidates as cands
from clinfusion.training import cohort_from_frames, load_train_config
from clinfusion.training.trainer import _bundles

TINY = {"model": {"hidden": 8, "n_bins": 2}, "optim": {"epochs": 2, "patience": 1}, "bootstrap": 0}


@pytest.fixture(scope="module")
def cohort():
    c = make_token_cohort(36, ("genomics", "ecg"), signal=1.5, missing_rate=0.2, seed=7)
    return cohort_from_frames(c.clinical, c.tokens)


@pytest.mark.parametrize("name", [n for n in cands.CANDIDATES if n != cands.FUSION])
def test_every_candidate_fits_scores_pickles_and_serves_new_patients(cohort, name):
    cfg = load_train_config(TINY)
    train, test = cohort.patient_ids[:28], cohort.patient_ids[28:]
    assert cands.applies(name, cohort, cfg)
    fit = cands.get(name).fit(cohort, train, cfg, cands.inner_mask(cohort, train, cfg))
    risk = fit.risk(cohort, test)
    assert risk.shape == (len(test),) and np.isfinite(risk).all()
    assert np.allclose(pickle.loads(pickle.dumps(fit)).risk(cohort, test), risk)
    new = cands.cohort_from_bundles(_bundles(cohort, test, cohort.modalities),
                                    cohort.covariates.iloc[cohort.index(test)], cohort.modalities)
    assert np.allclose(fit.risk(new, new.patient_ids), risk, atol=1e-9)


def test_candidates_that_need_covariates_or_genomics_do_not_apply_without(cohort):
    from dataclasses import replace

    cfg = load_train_config(TINY)
    bare = replace(cohort, covariates=cohort.covariates.iloc[:, :0], tokens={"ecg": cohort.tokens["ecg"]})
    usable = {n for n in cands.CANDIDATES if cands.applies(n, bare, cfg)}
    assert usable == {"fusion", "coxnet", "rsf", "gb_survival", "concat_mlp"}
    with pytest.raises(KeyError, match="unknown candidate"):
        cands.get("magic")


def test_late_fusion_row_reuses_the_fitted_parts(cohort):
    cfg = load_train_config(TINY)
    train = cohort.patient_ids[:28]
    fitted = cands.fit_candidates(cohort, train, cfg, None, ["unimodal_genomics", "unimodal_ecg", "clinical_cox",
                                                             "late_fusion"])
    parts = fitted["late_fusion"].parts
    assert parts == [fitted["unimodal_genomics"], fitted["unimodal_ecg"], fitted["clinical_cox"]]
    assert all(a is b for a, b in zip(parts, [fitted["unimodal_genomics"], fitted["unimodal_ecg"], fitted["clinical_cox"]],
                                      strict=True))


def test_unpenalised_columns_stay_in_the_coxnet_at_the_strongest_penalty():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6))
    time = rng.exponential(np.exp(-(x[:, 4] + x[:, 5])))
    event = np.ones(200, int)
    factor = np.array([1, 1, 1, 1, 0, 0], float)
    path = CoxNet(penalty_factor=factor)._path(x, __import__("sksurv.util").util.Surv.from_arrays(event.astype(bool), time))
    first = path.coef_[:, 0]  # largest alpha: every penalised coefficient is zero
    assert np.allclose(first[:4], 0) and (np.abs(first[4:]) > 0.1).all()
