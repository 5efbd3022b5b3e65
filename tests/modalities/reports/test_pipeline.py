"""Ingest -> featurize -> export on the synthetic cohort and a PHI-planted fixture cohort."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clinfusion.featurize import featurize
from clinfusion.featurize.cache import load_tokens
from clinfusion.ingest.runner import ingest
from clinfusion.modalities.export import export_modality
from clinfusion.modalities.registry import encoder_class, encoders
from clinfusion.modalities.reports.embed import fit_tfidf_svd
from clinfusion.modalities.reports.features import FINDING_FEATURES
from clinfusion.testing.reports import write_phi_reports_cohort, write_tiny_bert
from clinfusion.workspace import Workspace, read_catalog


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()).lower()


@pytest.fixture(scope="module")
def synth_ws(tmp_path_factory):
    from clinfusion.synth import generate_cohort

    base = tmp_path_factory.mktemp("synth_reports")
    generate_cohort(base / "cohort", n_patients=5, seed=0, scale="small", modalities=("reports",))
    report = ingest(base / "cohort", base / "ws", demo=True)
    return base, report


@pytest.fixture(scope="module")
def phi_ws(tmp_path_factory):
    base = tmp_path_factory.mktemp("phi_reports")
    cohort = write_phi_reports_cohort(base / "cohort")
    report = ingest(cohort.root, base / "ws", demo=True)
    return cohort, report


def test_synthetic_cohort_planted_phi_is_all_removed(synth_ws):
    base, report = synth_ws
    phi = pd.read_csv(base / "cohort" / "truth" / "phi.csv", dtype=str)
    phi = phi[phi["modality"] == "reports"]
    assert len(phi) >= 5 * 10
    blob = _all_bytes(base / "ws")
    leaked = [(r.field, r.value) for r in phi.itertuples() if r.value.lower().encode() in blob]
    assert leaked == []
    rows = report.catalog[report.catalog["modality"] == "reports"]
    assert (rows["status"] == "ingested").all() and len(rows) == 5
    meta = json.loads(rows.iloc[0]["meta_json"])
    assert meta["n_reports"] == 2 and meta["kinds"] == {"pathology": 1, "radiology": 1}
    assert {"INDICATION", "FINDINGS", "IMPRESSION"} <= set(meta["sections"])
    assert meta["phi_replacements"]["NAME"] >= 4 and meta["phi_replacements"]["DATE"] >= 4


def test_fixture_cohort_text_files_and_csv(phi_ws):
    cohort, report = phi_ws
    blob = _all_bytes(report.workspace.root)
    leaked = [v for v in cohort.planted["value"] if v.lower().encode() in blob]
    assert leaked == []
    for term in cohort.terms:
        assert term.lower().encode() in blob, term
    cat = report.catalog[report.catalog["modality"] == "reports"]
    csv_row = cat[cat["patient_id"] == ""].iloc[0]
    assert csv_row["status"] == "ingested"
    assert len(json.loads(csv_row["patients_json"])) == 3
    rejected = json.loads(csv_row["rejected_json"])
    assert list(rejected.values()) == ["patient_id is not in the clinical table"]
    assert "UNKNOWN01".lower().encode() not in blob


def test_export_gives_findings_per_report(phi_ws):
    cohort, report = phi_ws
    table = export_modality(report.workspace, "reports")
    assert len(table) == 3 * 3 and table["patient_id"].nunique() == 3
    rad = table[(table["kind"] == "radiology") & (table["n_sections"] >= 4)]
    assert (rad["cardiomegaly"] == "present").all()
    assert (rad["pneumothorax"] == "absent").all()
    assert (rad["nodule"] == "uncertain").all()
    from_csv = table[table["sections"] == "FINDINGS;IMPRESSION"]
    assert (from_csv["effusion"] == "present").all() and len(from_csv) == 3


def test_findings_encoder_tokens_and_cache(phi_ws):
    _, report = phi_ws
    ws = report.workspace
    enc = encoder_class("reports", "findings")()
    first = featurize(ws, enc)
    assert len(first.encoded) == 3 and not first.failed
    again = featurize(ws, enc)
    assert again.encoded == [] and len(again.cached) == 3
    toks = load_tokens(ws, "reports", "findings")
    ts = next(iter(toks.values()))
    assert ts.tokens.shape == (3, len(FINDING_FEATURES)) and ts.feature_names == list(FINDING_FEATURES)
    assert sorted(ts.groups.tolist()) == [0, 1, 2]


def test_registry_lists_encoders_and_rejects_unknown():
    assert set(encoders("reports")) == {"minilm", "local_transformer", "tfidf_svd", "findings", "hf_encoder"}
    from clinfusion.errors import ConfigError

    with pytest.raises(ConfigError, match="expected one of"):
        encoder_class("reports", "bogus")


def test_tfidf_svd_encoder_uses_a_prefitted_model(phi_ws, tmp_path):
    _, report = phi_ws
    corpus = ["no pleural effusion", "the heart is enlarged", "possible nodule in the right upper lobe",
              "small left pleural effusion", "normal chest", "cardiomegaly", "no pneumothorax"]
    model = fit_tfidf_svd(corpus, tmp_path / "tfidf.npz", n_components=4)
    enc = encoder_class("reports", "tfidf_svd")({"model_path": str(model)})
    rep = featurize(report.workspace, enc)
    assert len(rep.encoded) == 3 and not rep.failed
    ts = load_tokens(report.workspace, "reports", "tfidf_svd")
    one = next(iter(ts.values()))
    assert one.dim == 4 and one.positions.shape == (one.n_tokens, 2) and "FINDINGS" in one.names
    assert np.abs(one.tokens).sum() > 0


def test_local_transformer_encoder_from_a_local_directory(phi_ws, tmp_path):
    _, report = phi_ws
    model_dir = write_tiny_bert(tmp_path / "tiny_bert")
    enc = encoder_class("reports", "local_transformer")({"model_path": str(model_dir), "max_length": 32})
    rep = featurize(report.workspace, enc)
    assert len(rep.encoded) == 3 and not rep.failed
    ts = next(iter(load_tokens(report.workspace, "reports", "local_transformer").values()))
    assert ts.dim == 32 and ts.n_tokens >= 5
    assert len({tuple(p) for p in ts.positions.tolist()}) == ts.n_tokens  # (report, order) unique


def test_minilm_default_encoder_and_rerun_does_no_work(synth_ws):
    base, report = synth_ws
    ws = Workspace.open(base / "ws")
    enc = encoder_class("reports")()
    assert enc.name == "minilm"
    first = featurize(ws, enc)
    assert len(first.encoded) == 5 and not first.failed
    assert featurize(ws, enc).encoded == []
    ts = load_tokens(ws, "reports")
    one = next(iter(ts.values()))
    assert one.dim == 384 and set(one.groups.tolist()) == {0, 1}
    assert np.allclose(np.linalg.norm(one.tokens, axis=1), 1.0, atol=1e-4)
    assert "PREAMBLE" not in one.names
    assert len(read_catalog(ws)) == 6
