"""The clinical `covariates` encoder through ingest -> featurize -> cache -> export on a tiny cohort."""

from __future__ import annotations

import pytest
from clinfusion.featurize import featurize
from clinfusion.featurize.cache import load_tokens
from clinfusion.ingest import ingest
from clinfusion.modalities.clinical.features import ClinicalTokenEncoder
from clinfusion.modalities.export import export_modality
from clinfusion.modalities.registry import default_encoder
from clinfusion.testing import write_tiny_cohort
from clinfusion.workspace import Workspace


def test_covariate_tokens_cached_and_exported(tmp_path):
    spec = {"clinical": {"covariates": {"age": {"type": "numeric"}, "sex": {"type": "categorical"},
                                        "stage": {"type": "ordinal", "levels": ["I", "II", "III", "IV"]}}}}
    cohort = write_tiny_cohort(tmp_path / "c", 6, spec=spec)
    ingest(cohort.root, tmp_path / "ws")
    ws = Workspace.open(tmp_path / "ws")
    assert default_encoder("clinical") == "covariates"
    rep = featurize(ws, ClinicalTokenEncoder())
    assert len(rep.encoded) == 6 and not rep.failed
    tokens = load_tokens(ws, "clinical")
    tok = next(iter(tokens.values()))
    assert tok.tokens.shape[0] == 1
    assert tok.feature_names[:2] == ["age", "age__missing"]
    assert not any(f.startswith(("diagnosis", "event", "survival")) for f in tok.feature_names)
    ages = sorted(float(t.tokens[0, 0]) for t in tokens.values())
    assert ages == sorted(float(a) for a in cohort.clinical["age"])  # unstandardised in the cached token
    assert featurize(ws, ClinicalTokenEncoder()).encoded == []
    table = export_modality(ws, "clinical")
    assert len(table) == 6 and "enc:stage" in table and "enc:sex=F" in table
    stage_rank = {"I": 0, "II": 1, "III": 2, "IV": 3}  # one ordered rank column
    expected = sorted(stage_rank[s] for s in cohort.clinical["stage"])
    assert sorted(table["enc:stage"]) == pytest.approx(expected)
    assert not any(c.startswith("enc:stage=") for c in table.columns)


def test_workspace_cohort_carries_declared_types_and_token_columns_match_the_fold_encoder(tmp_path):
    from clinfusion.training import load_cohort
    from clinfusion.training.flat import fit_covariates

    spec = {"clinical": {"covariates": {"age": {"type": "numeric"}, "sex": {"type": "categorical"},
                                        "stage": {"type": "ordinal", "levels": ["I", "II", "III", "IV"]}}}}
    cohort = write_tiny_cohort(tmp_path / "c", 8, spec=spec)
    ingest(cohort.root, tmp_path / "ws")
    ws = Workspace.open(tmp_path / "ws")
    featurize(ws, ClinicalTokenEncoder())
    data = load_cohort(ws, ["clinical"])
    assert data.covariate_types["stage"].kind == "ordinal" and data.covariate_types["stage"].levels == ("I", "II", "III", "IV")
    enc = fit_covariates(data, data.patient_ids[:5])
    token = next(iter(data.tokens["clinical"].values()))
    assert token.feature_names == enc.feature_names
    assert [c for c in enc.feature_names if c.startswith("stage")] == ["stage", "stage__missing"]
