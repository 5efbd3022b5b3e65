"""Training-fold normalisation: statistics from training rows only, serialisable params."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clinfusion.errors import ConfigError
from clinfusion.modalities.genomics.normalize import StandardizeParams, apply, fit


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    ids = [f"p{i}" for i in range(20)]
    data = rng.poisson(30, (20, 6)).astype(float)
    data[:, 5] = 7.0  # constant gene
    return pd.DataFrame(data, index=ids, columns=[f"G{i}" for i in range(6)])


def test_no_statistic_comes_from_validation_rows(frame):
    train, val = list(frame.index[:12]), list(frame.index[12:])
    params = fit(frame, train, log1p=True, top_k=4)
    poisoned = frame.copy()
    poisoned.loc[val] = poisoned.loc[val] * 1000 + 5  # change every validation value
    assert fit(poisoned, train, log1p=True, top_k=4) == params
    z_val = apply(params, poisoned.loc[val])
    assert z_val.to_numpy().mean() > 5  # validation rows are transformed with training numbers only
    assert fit(frame, list(frame.index), log1p=True, top_k=4) != params  # sanity: the fit does see its rows


def test_train_rows_standardised_and_filters(frame):
    train = list(frame.index[:15])
    params = fit(frame, train, min_variance=0.0)
    assert "G5" not in params.columns  # zero variance dropped
    z = apply(params, frame.loc[train])
    np.testing.assert_allclose(z.mean().to_numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(ddof=0).to_numpy(), 1, atol=1e-4)
    top = fit(frame, train, top_k=2)
    var = frame.loc[train].var(ddof=0).sort_values(ascending=False)
    assert set(top.columns) == set(var.index[:2])


def test_params_roundtrip_and_missing_columns(frame):
    params = fit(frame, frame.index[:10], log1p=True)
    again = StandardizeParams.from_json(params.to_json())
    assert again == params
    z = apply(again, frame.drop(columns=["G0"]))
    assert list(z.columns) == list(params.columns) and (z["G0"] == 0).all()
    with pytest.raises(ConfigError, match="version"):
        StandardizeParams.from_dict({**params.to_dict(), "version": 99})


def test_errors(frame):
    with pytest.raises(ConfigError, match="none of the training ids"):
        fit(frame, ["nobody"])
    with pytest.raises(ConfigError, match="log1p"):
        fit(frame - 100, frame.index, log1p=True)
