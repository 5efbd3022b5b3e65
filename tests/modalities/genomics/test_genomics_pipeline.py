"""Genomics end to end on a tiny cohort (three layouts) and on the synthetic cohort: ingest, tokens, cache, export."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from clinfusion.featurize import featurize
from clinfusion.featurize.cache import load_tokens
from clinfusion.ingest import ingest
from clinfusion.modalities.export import export_modality
from clinfusion.modalities.genomics.features import FEATURES, GeneSetEncoder
from clinfusion.privacy import Pseudonymizer, load_key
from clinfusion.privacy.keys import KEY_ENV
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.genomics import write_tiny_genomics
from clinfusion.workspace import Workspace, read_catalog
from clinfusion.workspace.catalog import row_meta
from scipy.stats import spearmanr

KEY = "genomics-test-key-0123456789"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("gx_cohort")
    cohort = write_tiny_cohort(root, 8)
    data = write_tiny_genomics(root, cohort.patients, extra_samples=("ZZ9999",))
    (root / "genomics" / "notes.tsv").write_text("a\tb\n1\t2\n")
    ws_dir = tmp_path_factory.mktemp("gx_ws")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, KEY)
        report = ingest(root, ws_dir)
        pz = Pseudonymizer(load_key(ws_dir))
    return cohort, data, report, Workspace.open(ws_dir), pz


def _genomics_row(ws: Workspace) -> pd.Series:
    cat = read_catalog(ws)
    return cat[cat["modality"] == "genomics"].iloc[0]


def test_ingest_one_item_with_rejected_member_and_unknown_sample_counted(tiny):
    cohort, _, _, ws, pz = tiny
    row = _genomics_row(ws)
    assert row["status"] == "ingested"
    meta = row_meta(row)
    assert meta["kinds"] == ["cnv", "expression", "mutation"]
    assert meta["tables"]["expression"]["layout"] == "genes_x_samples"
    assert meta["tables"]["cnv"]["layout"] == "samples_x_genes"
    assert meta["tables"]["mutation"]["layout"] == "long"
    assert meta["tables"]["expression"]["n_unknown_samples"] == 1
    assert "ZZ9999" not in row["meta_json"] and "PT0000" not in row["meta_json"]
    rejected = json.loads(row["rejected_json"])
    assert list(rejected) == ["genomics/notes.tsv"] and "cannot tell" in rejected["genomics/notes.tsv"]
    assert sorted(json.loads(row["patients_json"])) == sorted(pz.patient(p) for p in cohort.patients)
    assert meta["coverage"]["expression"]["per_set"]["DRIVERS"] == [3, 4]
    expr = pd.read_parquet(ws.root / row["artifact_dir"] / "expression.parquet")
    assert set(expr.index) == {pz.patient(p) for p in cohort.patients}  # keyed by pseudonym, no raw id


def test_tokens_match_hand_computed_values_and_rerun_is_cached(tiny):
    cohort, data, _, ws, pz = tiny
    first = featurize(ws, GeneSetEncoder())
    assert len(first.encoded) == 8 and not first.failed
    tokens = load_tokens(ws, "genomics", "geneset")
    raw = cohort.patients[4]
    tok = tokens[pz.patient(raw)]
    assert tok.tokens.shape == (3, len(FEATURES)) and tok.names == ["PROLIF", "IMMUNE", "DRIVERS"]
    prolif = np.log1p(data.expression.loc[raw, ["MYC", "CDK4", "TP53"]].to_numpy(float)).mean()
    assert tok.tokens[0, FEATURES.index("expr_mean")] == pytest.approx(prolif, rel=1e-5)
    assert tok.tokens[2, FEATURES.index("expr_coverage")] == pytest.approx(0.75)
    assert tok.tokens[2, FEATURES.index("mut_count")] == 2  # TP53 and KRAS mutated
    cnv = data.cnv.loc[raw, ["TP53", "KRAS", "EGFR"]].to_numpy(float)
    assert tok.tokens[2, FEATURES.index("cnv_burden")] == pytest.approx(np.abs(cnv).mean())
    assert tok.meta["coverage"]["DRIVERS"]["mutation"] == [2, 4]
    again = featurize(ws, GeneSetEncoder())
    assert again.encoded == [] and len(again.cached) == 8


def test_export_gene_set_scores(tiny):
    _, _, _, ws, _ = tiny
    table = export_modality(ws, "genomics")
    assert len(table) == 8 and "PROLIF:expr_mean" in table and "DRIVERS:mut_count" in table
    assert "IMMUNE:cnv_burden" in table
    assert table["DRIVERS:mut_count"].sum() > 0


def test_synthetic_cohort_ingests_and_tokens_track_truth(tmp_path, monkeypatch):
    synth = pytest.importorskip("clinfusion.synth")
    res = synth.generate_cohort(tmp_path / "syn", n_patients=30, seed=0, scale="small", modalities=("genomics",))
    ingest(res.root, tmp_path / "ws")
    ws = Workspace.open(tmp_path / "ws")
    row = _genomics_row(ws)
    assert row["status"] == "ingested", row["reason"]
    meta = row_meta(row)
    assert meta["tables"]["expression"]["layout"] == "genes_x_samples"
    assert meta["tables"]["mutation"]["layout"] == "long"
    gmt = str(resources.files("clinfusion.synth").joinpath("data", "gene_sets.gmt"))
    rep = featurize(ws, GeneSetEncoder({"gene_sets": [gmt]}))
    assert not rep.failed and rep.encoded
    tokens = load_tokens(ws, "genomics", "geneset")
    pz = Pseudonymizer(load_key(tmp_path / "ws"))
    truth = res.truth.set_index("patient_id")
    have = [p for p in truth.index if pz.patient(p) in tokens]
    names = tokens[pz.patient(have[0])].names
    j = names.index("CF_E2F_TARGETS")
    score = [tokens[pz.patient(p)].tokens[j, 0] for p in have]
    rho = spearmanr(score, truth.loc[have, "proliferation"]).statistic
    assert rho > 0.6
