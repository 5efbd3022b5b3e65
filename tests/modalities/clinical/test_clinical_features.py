"""The clinical `covariates` encoder through ingest -> featurize -> cache -> export on a tiny cohort."""

from __future__ import annotations

import pytest
from clinfusion.featurize import featurize
from clinfusion.featurize.cache import load_tokens
from clinfusion.ingest import ingest
from clinfusion.modalities.clinical.features import CovariateEncoder
from clinfusion.modalities.registry import default_encoder
from clinfusion.testing import write_tiny_cohort
from clinfusion.workspace import Workspace
from clinfusion.workspace.export import export_modality


def test_covariate_tokens_cached_and_exported(tmp_path):
    spec = {"clinical": {"covariates": {"age": {"type": "numeric"}, "sex": {"type": "categorical"},
                                        "stage": {"type": "ordinal", "levels": ["I", "II", "III", "IV"]}}}}
    cohort = write_tiny_cohort(tmp_path / "c", 6, spec=spec)
    ingest(cohort.root, tmp_path / "ws")
    ws = Workspace.open(tmp_path / "ws")
    assert default_encoder("clinical") == "covariates"
    rep = featurize(ws, CovariateEncoder())
    assert len(rep.encoded) == 6 and not rep.failed
    tokens = load_tokens(ws, "clinical")
    tok = next(iter(tokens.values()))
    assert tok.tokens.shape[0] == 1
    assert tok.feature_names[:2] == ["age", "age__missing"]
    assert not any(f.startswith(("diagnosis", "event", "survival")) for f in tok.feature_names)
    ages = sorted(float(t.tokens[0, 0]) for t in tokens.values())
    assert ages == sorted(float(a) for a in cohort.clinical["age"])  # unstandardised in the cached token
    assert featurize(ws, CovariateEncoder()).encoded == []
    table = export_modality(ws, "clinical")
    assert len(table) == 6 and "enc:stage" in table and "enc:sex=F" in table
    stage_rank = {"I": 0, "II": 1 / 3, "III": 2 / 3, "IV": 1}
    expected = sorted(stage_rank[s] for s in cohort.clinical["stage"])
    assert sorted(table["enc:stage"]) == pytest.approx(expected)
