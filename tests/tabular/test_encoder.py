"""The shared tabular encoder: ordinal ranks, the "other" bucket, missing flags, fold fitting, JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from clinfusion.errors import ConfigError
from clinfusion.tabular import ColumnType, TabularEncoder, ordinal_rank

STAGES = ("I", "II", "III", "IV")
TYPES = {"stage": ColumnType("ordinal", STAGES), "sex": ColumnType("categorical")}


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [50.0, 60.0, np.nan, 70.0, 80.0],
        "sex": ["F", "M", "F", None, "X"],
        "stage": ["Stage I", "stage ii", "III", "Stage X", None],
    }, index=[f"p{i}" for i in range(1, 6)])


@pytest.mark.parametrize("statistics", [True, False])
def test_ordinal_stage_is_one_ordered_column(table, statistics):
    enc = TabularEncoder.fit(table.iloc[:3], TYPES, statistics=statistics)
    stage_cols = [c for c in enc.feature_names if c.startswith("stage")]
    assert stage_cols == ["stage", "stage__missing"]  # one rank column, no one-hot
    out = enc.transform_frame(table)
    assert out.loc["p1", "stage"] < out.loc["p2", "stage"] < out.loc["p3", "stage"]  # I < II < III
    if not statistics:
        assert out.loc[["p1", "p2", "p3"], "stage"].tolist() == [0.0, 1.0, 2.0]


def test_ordinal_sub_stages_fall_back_to_their_stage():
    levels = ("I", "IA", "IB", "II", "IIA", "IIB", "III")
    assert ordinal_rank("Stage IIA", levels) < ordinal_rank("Stage IIB", levels) < ordinal_rank("Stage III", levels)
    assert ordinal_rank("IIC", levels) == levels.index("II")
    assert ordinal_rank("Stage X", levels) is None


def test_unseen_category_goes_to_other_and_missing_to_the_flag(table):
    enc = TabularEncoder.fit(table.iloc[:3], TYPES)
    out = enc.transform_frame(table)
    assert [c for c in out.columns if c.startswith("sex")] == ["sex=F", "sex=M", "sex=__other", "sex__missing"]
    assert out.loc["p5", ["sex=F", "sex=M", "sex=__other", "sex__missing"]].tolist() == [0, 0, 1, 0]  # X unseen
    assert out.loc["p4", ["sex=F", "sex=M", "sex=__other", "sex__missing"]].tolist() == [0, 0, 0, 1]
    assert out.loc["p3", "age__missing"] == 1 and out.loc["p3", "age"] == 0  # imputed with the training mean
    assert out.loc["p4", "stage__missing"] == 1 and out.loc["p4", "stage"] == 0  # not a declared level
    assert out.loc["p5", "stage__missing"] == 1
    assert out.loc[["p1", "p2"], ["age__missing", "sex__missing", "stage__missing"]].to_numpy().sum() == 0


def test_statistics_come_from_the_fit_rows_only(table):
    enc = TabularEncoder.fit(table.iloc[:3], TYPES)
    ages = np.array([50.0, 60.0])  # p3 is missing
    out = enc.transform_frame(table)
    assert out["age"].tolist() == pytest.approx(((table["age"].fillna(ages.mean()) - ages.mean()) / ages.std()).tolist())
    ranks = np.array([0.0, 1.0, 2.0])
    assert out.loc["p3", "stage"] == pytest.approx((2.0 - ranks.mean()) / ranks.std())
    changed = table.copy()
    changed.iloc[3:] = [[1000.0, "Q", "IV"], [2000.0, "R", "I"]]
    assert TabularEncoder.fit(changed.iloc[:3], TYPES) == enc


def test_no_statistics_mode_keeps_raw_values_and_declared_levels(table):
    enc = TabularEncoder.fit(table, {**TYPES, "sex": ColumnType("categorical", ("f", "m"))}, statistics=False)
    out = enc.transform_frame(table)
    assert out["age"].tolist() == [50.0, 60.0, 0.0, 70.0, 80.0]
    assert [c for c in out.columns if c.startswith("sex=")] == ["sex=F", "sex=M", "sex=__other"]
    assert all(c.center == 0.0 and c.scale == 1.0 for c in enc.columns)


def test_json_round_trip_gives_identical_outputs(table):
    enc = TabularEncoder.fit(table.iloc[:4], TYPES)
    again = TabularEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    assert again == enc and again.feature_names == enc.feature_names
    assert np.array_equal(again.transform(table), enc.transform(table))
    with pytest.raises(ConfigError, match="format 1"):
        TabularEncoder.from_dict({**enc.to_dict(), "version": 1})
    with pytest.raises(ConfigError, match="columns"):
        TabularEncoder.from_dict({"version": 2, "statistics": True, "n_fit": 1})


def test_block_columns_share_one_missing_flag_and_absent_columns_are_missing():
    pooled = pd.DataFrame({"ecg:mean0": [1.0, np.nan, 3.0], "ecg:max0": [2.0, np.nan, 4.0], "clin": [1.0, 2.0, 3.0]})
    types = {c: ColumnType("numeric", source="ecg", block="ecg") for c in ("ecg:mean0", "ecg:max0")}
    enc = TabularEncoder.fit(pooled, types)
    assert enc.feature_names == ["ecg:mean0", "ecg:max0", "ecg__missing", "clin", "clin__missing"]
    assert enc.indices("ecg").tolist() == [0, 1, 2] and enc.indices("clinical").tolist() == [3, 4]
    out = enc.transform(pooled)
    assert out[:, 2].tolist() == [0.0, 1.0, 0.0]
    assert enc.transform(pooled.drop(columns="clin"))[:, 4].tolist() == [1.0, 1.0, 1.0]


def test_bad_types_and_colliding_names_are_refused():
    with pytest.raises(ConfigError, match="must be one of"):
        ColumnType("date")
    with pytest.raises(ConfigError, match="levels"):
        ColumnType("ordinal")
    with pytest.raises(ConfigError, match="collide"):
        TabularEncoder.fit(pd.DataFrame({"a": [1.0], "a__missing": [0.0]}))
    assert ColumnType.from_spec({"type": "ordinal", "levels": ["I", "II"]}) == ColumnType("ordinal", ("I", "II"))
