"""Every consumer of the covariates gets the same encoder's columns for the same fold: the fusion
wide path, the flat baselines (classical candidates), the padded architectures and the clinical token."""

from __future__ import annotations

import numpy as np
import pytest
from clinfusion.modalities.clinical.encode import covariate_types, token_encoding
from clinfusion.tabular import ColumnType, TabularEncoder
from clinfusion.testing.tokens import make_token_cohort
from clinfusion.training import cohort_from_frames, load_train_config

DECLARED = {"age": {"type": "numeric"}, "stage": {"type": "ordinal", "levels": ["I", "II", "III"]}}


@pytest.fixture(scope="module")
def fold():
    c = make_token_cohort(24, ("genomics", "pathology"), missing_rate=0.3, seed=2)
    clinical = c.clinical.copy()
    clinical.loc[clinical.index[:3], "age"] = np.nan  # gaps inside the training fold
    data = cohort_from_frames(clinical, c.tokens, covariates=["age", "stage"])
    data.covariate_types = {k: ColumnType.from_spec(v) for k, v in DECLARED.items()}
    tr, te = data.patient_ids[:16], data.patient_ids[16:]
    ref = TabularEncoder.fit(data.covariates.iloc[data.index(tr)], data.covariate_types)
    return data, clinical, tr, te, ref


def test_reference_has_one_ordered_stage_column(fold):
    data, _, _, _, ref = fold
    assert ref.feature_names == ["age", "age__missing", "stage", "stage__missing"]
    x = ref.transform_frame(data.covariates.iloc[data.index(data.patient_ids)])
    by_stage = x.groupby(data.covariates["stage"].to_numpy())["stage"].first()
    assert by_stage["I"] < by_stage["II"] < by_stage["III"]


def test_wide_path_uses_the_fold_encoder(fold):
    from clinfusion.training.trainer import _bundles, rebuild, train_fusion

    data, _, tr, te, ref = fold
    fit = train_fusion(data, tr, load_train_config({"model": {"hidden": 8}, "optim": {"epochs": 1, "patience": 1}}))
    assert fit.covariates == ref
    cov_te = data.covariates.iloc[data.index(te)]
    wide = fit.wide_matrix(_bundles(data, te, fit.modalities), cov_te)
    assert np.array_equal(wide[:, :ref.width], ref.transform(cov_te))
    again = rebuild(fit.spec(), fit.model.state_dict())
    assert np.array_equal(again.wide_matrix(_bundles(data, te, fit.modalities), cov_te), wide)


@pytest.mark.parametrize("name", ["clinical_cox", "coxnet", "rsf_clinical"])
def test_flat_baselines_use_the_fold_encoder(fold, name):
    from clinfusion.training.candidates import CANDIDATES

    data, _, tr, te, ref = fold
    feat = CANDIDATES[name].fit(data, list(tr), load_train_config(), None).features
    assert feat.covariates == ref
    x = feat.transform(data, te)
    assert np.array_equal(x[:, x.shape[1] - ref.width:], ref.transform(data.covariates.iloc[data.index(te)]))


def test_architectures_use_the_fold_encoder(fold):
    from dataclasses import replace

    from clinfusion.training.architectures import ARCHITECTURES, ArchitectureSettings
    from clinfusion.training.padded import COVARIATES

    data, _, tr, te, ref = fold
    arch = replace(ARCHITECTURES["tensor_fusion"], settings=ArchitectureSettings(epochs=1, patience=1))
    fit = arch.fit(data, list(tr), load_train_config())
    assert fit.covariates == ref
    assert fit.dims[COVARIATES] == ref.width
    tokens, _ = fit.inputs(data, te)
    assert np.array_equal(tokens[COVARIATES][:, 0].numpy(),
                          ref.transform(data.covariates.iloc[data.index(te)]).astype(np.float32))


def test_clinical_token_has_the_same_columns(fold):
    data, clinical, tr, _, ref = fold
    table = clinical.assign(patient_id=clinical["patient_id"].astype(str))
    enc, token = token_encoding(table, covariate_types(table, DECLARED))
    assert enc.feature_names == ref.feature_names
    wide = ref.transform_frame(table.set_index("patient_id")[["age", "stage"]])
    flags = [c for c in ref.feature_names if c.endswith("__missing")]
    assert np.array_equal(token[flags].to_numpy(), wide[flags].to_numpy())
    for col in ref.columns:  # numeric and ordinal: the token's raw value, z-scored with the fold's numbers
        present = token[f"{col.name}__missing"] == 0
        expect = (token.loc[present, col.name] - col.center) / col.scale
        assert wide.loc[present, col.name].to_numpy() == pytest.approx(expect.to_numpy(), rel=1e-5)
