"""Clinical covariates -> column types of the shared encoder: declarations, inference, outcome columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clinfusion.cohort.spec import CovariateSpec
from clinfusion.errors import ConfigError
from clinfusion.modalities.clinical.encode import covariate_types, declared_types, token_encoding
from clinfusion.tabular import ColumnType

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


def test_declared_types_become_column_types(table):
    types = covariate_types(table, COVS)
    assert types["stage"] == ColumnType("ordinal", STAGES)
    assert types["sex"].kind == "categorical" and types["age"].kind == "numeric"
    assert list(covariate_types(table, COVS, columns=["age"])) == ["age"]


def test_undeclared_columns_are_inferred_and_outcomes_refused(table):
    inferred = covariate_types(table, {})
    assert inferred["age"].kind == "numeric" and inferred["sex"].kind == "categorical"
    assert "event" not in inferred and "survival_time" not in inferred and "patient_id" not in inferred
    with pytest.raises(ConfigError, match="outcome"):
        declared_types({"event": CovariateSpec(type="numeric")})
    with pytest.raises(ConfigError, match="not a column"):
        covariate_types(table, {"bmi": CovariateSpec(type="numeric")})


def test_token_encoding_is_stateless_with_sub_stage_ranks(table):
    enc, out = token_encoding(table, covariate_types(table, COVS))
    assert not enc.statistics and list(out.index) == ["p1", "p2", "p3", "p4", "p5"]
    assert out.loc["p1", "age"] == 50.0 and out.loc["p3", "age__missing"] == 1
    assert out.loc["p1", "stage"] == STAGES.index("IIA") and out.loc["p2", "stage"] == STAGES.index("IIB")
    assert out.loc["p3", "stage"] == STAGES.index("II")  # undeclared sub-stage -> its stage
    assert out.loc["p4", "stage__missing"] == 1 and out.loc["p5", "stage__missing"] == 1
    assert out.loc["p5", "sex=X"] == 1  # the token's vocabulary is every label of the table
    assert "survival_time" not in out and "event" not in out
