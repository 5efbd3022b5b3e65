"""Clinical covariate encoding: types, AJCC sub-stages, missing indicators, unseen categories, fold fitting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clinfusion.cohort.spec import CovariateSpec
from clinfusion.errors import ConfigError
from clinfusion.modalities.clinical.encode import (
    ClinicalEncoding,
    apply_encoding,
    fit_encoding,
    infer_covariates,
    ordinal_rank,
)

STAGES = ("I", "IA", "IB", "II", "IIA", "IIB", "III", "IIIA", "IIIB", "IIIC", "IV")
COVS = {
    "age": CovariateSpec(type="numeric"),
    "sex": CovariateSpec(type="categorical"),
    "stage": CovariateSpec(type="ordinal", levels=STAGES),
}


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": ["p1", "p2", "p3", "p4", "p5"],
        "age": [50.0, 60.0, np.nan, 70.0, 80.0],
        "sex": ["F", "M", "F", None, "X"],
        "stage": ["Stage IIA", "stage iib", "IIC", "Stage X", None],
        "survival_time": [1.0, 2.0, 3.0, 4.0, 5.0],
        "event": [1, 0, 1, 0, 1],
    })


def test_ordinal_ranks_with_sub_stages():
    assert ordinal_rank("Stage IIA", STAGES) < ordinal_rank("Stage IIB", STAGES) < ordinal_rank("Stage III", STAGES)
    assert ordinal_rank("IIC", STAGES) == STAGES.index("II")  # undeclared sub-stage -> its stage
    assert ordinal_rank("Stage X", STAGES) is None


def test_encoding_values_missing_and_unseen(table):
    enc = fit_encoding(table, COVS, ["p1", "p2", "p3"], standardize=True)
    out = apply_encoding(enc, table)
    assert enc.n_train == 3
    assert out.loc["p1", "age"] == pytest.approx(-1.0) and out.loc["p2", "age"] == pytest.approx(1.0)
    assert out.loc["p3", "age"] == 0 and out.loc["p3", "age__missing"] == 1
    assert [c for c in out.columns if c.startswith("sex")] == ["sex=F", "sex=M", "sex=__other", "sex__missing"]
    assert out.loc["p5", "sex=__other"] == 1 and out.loc["p5", ["sex=F", "sex=M"]].sum() == 0  # unseen at inference
    assert out.loc["p4", "sex__missing"] == 1
    assert out.loc["p1", "stage"] == pytest.approx(4 / 10) and out.loc["p2", "stage"] == pytest.approx(5 / 10)
    assert out.loc["p4", "stage__missing"] == 1 and out.loc["p4", "stage__other"] == 1
    assert out.loc["p5", "stage__missing"] == 1 and out.loc["p5", "stage__other"] == 0
    assert "survival_time" not in out and "event" not in out


def test_standardisation_uses_training_rows_only(table):
    train = ["p1", "p2", "p3"]
    enc = fit_encoding(table, COVS, train)
    changed = table.copy()
    changed.loc[3:, "age"] = [1000.0, 2000.0]
    changed.loc[3:, "sex"] = ["Q", "R"]
    assert fit_encoding(changed, COVS, train) == enc


def test_roundtrip_inference_and_errors(table):
    enc = fit_encoding(table, COVS, ["p1", "p2"])
    assert ClinicalEncoding.from_dict(enc.to_dict()) == enc
    inferred = infer_covariates(table, {})
    assert inferred["age"].type == "numeric" and inferred["sex"].type == "categorical"
    assert "event" not in inferred and "survival_time" not in inferred
    with pytest.raises(ConfigError, match="outcome"):
        fit_encoding(table, {"event": CovariateSpec(type="numeric")})
    with pytest.raises(ConfigError, match="not a column"):
        fit_encoding(table, {"bmi": CovariateSpec(type="numeric")})
