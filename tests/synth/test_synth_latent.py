"""The latent model without files: survival, censoring, diagnosis, missingness mechanisms."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.cohort.spec import CovariateSpec
from clinfusion.errors import ConfigError
from clinfusion.synth.config import make_config
from clinfusion.synth.latent import (
    DIAGNOSES,
    STAGE_LEVELS,
    diagnosis_probs,
    linear_predictor,
    sample_latent_cohort,
)
from clinfusion.synth.truth import build_summary, oracle_cindex


@pytest.fixture(scope="module")
def big():
    cfg = make_config(n_patients=3000, seed=11, modalities=("ecg", "genomics"), missing_rate=0.3, missing="mnar")
    return cfg, sample_latent_cohort(cfg)


def test_outcomes_follow_the_model(big):
    cfg, f = big
    assert np.allclose(f["linear_predictor"], linear_predictor(f))
    assert abs((1 - f["event"].mean()) - cfg.censoring_rate) < 0.03
    assert ((f["event"] == 1) == (f["event_time"] <= f["censor_time"])).all()
    assert (f["survival_time"] > 0).all()
    assert 0.68 < oracle_cindex(f) < 0.9  # strong but not perfect signal
    # higher true risk -> shorter true event time
    assert np.corrcoef(f["linear_predictor"], np.log(f["event_time"]))[0, 1] < -0.5


def test_diagnosis_and_stage(big):
    _, f = big
    p = diagnosis_probs(f)
    assert np.allclose(p.sum(axis=1), 1)
    assert set(f["diagnosis"]) == set(DIAGNOSES)
    # the sampled labels agree with the probabilities: each class is most frequent where it is most likely
    for j, d in enumerate(DIAGNOSES):
        top = p.argmax(axis=1) == j
        assert (f.loc[top, "diagnosis"] == d).mean() > 0.4
    spec = CovariateSpec(type="ordinal", levels=STAGE_LEVELS)
    assert {s.removeprefix("Stage ") for s in f["stage"]} <= set(spec.levels)
    assert np.corrcoef(f["stage_group"], f["tumour_burden"])[0, 1] > 0.6


@pytest.mark.parametrize("mechanism", ["mcar", "mnar"])
def test_missingness_mechanism(mechanism):
    cfg = make_config(n_patients=3000, seed=5, modalities=("ecg", "reports"), missing_rate=0.3, missing=mechanism)
    f = sample_latent_cohort(cfg)
    summary = build_summary(f, cfg)["missingness"]
    for m in ("ecg", "reports"):
        assert abs(summary[m]["fraction_missing"] - 0.3) < 0.06
        corr = summary[m]["corr_with_linear_predictor"]
        if mechanism == "mcar":
            assert abs(corr) < 0.06, (m, corr)
        else:
            assert corr > 0.3, (m, corr)
    # modalities go missing independently of each other
    assert abs(np.corrcoef(f["missing_ecg"], f["missing_reports"])[0, 1]) < (0.06 if mechanism == "mcar" else 0.3)


def test_no_missing_at_rate_zero():
    f = sample_latent_cohort(make_config(n_patients=50, seed=1))
    assert not f.filter(like="missing_").to_numpy().any()


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="modalities"):
        make_config(modalities=("mri",))
    with pytest.raises(ConfigError, match="scale"):
        make_config(scale="huge")
