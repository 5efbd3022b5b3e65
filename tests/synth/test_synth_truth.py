"""Truth files: oracle metrics recomputed independently, every planted PHI string findable, determinism."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
from clinfusion.synth import generate_cohort
from clinfusion.testing.synth import find_planted_phi, planted_phi
from lifelines.utils import concordance_index


def test_oracle_cindex_recomputed_from_csvs(small_cohort):
    summary = json.loads((small_cohort.truth_dir / "summary.json").read_text())
    clinical = pd.read_csv(small_cohort.root / "clinical.csv")
    lp = pd.read_csv(small_cohort.truth_dir / "linear_predictor.csv")
    merged = clinical.merge(lp[["patient_id", "linear_predictor"]], on="patient_id")
    c = concordance_index(merged["survival_time"], -merged["linear_predictor"], merged["event"])
    assert abs(summary["oracle_cindex"] - c) < 1e-6
    assert summary["n_patients"] == len(clinical) == len(small_cohort.patients)
    assert abs(summary["censoring_rate"] - (1 - clinical["event"].mean())) < 1e-6
    probs = pd.read_csv(small_cohort.truth_dir / "diagnosis_probs.csv")
    assert (probs["diagnosis"] == clinical["diagnosis"]).all()
    assert set(summary["modality_latents"]) >= {"radiology", "pathology", "ecg", "genomics", "reports"}


def test_every_planted_phi_string_is_in_its_modality_files(small_cohort):
    phi = pd.read_csv(small_cohort.truth_dir / "phi.csv", dtype=str)
    assert list(phi.columns) == ["patient_id", "modality", "field", "value"]
    assert (phi["value"].str.len() >= 6).all()
    assert set(phi["modality"]) == {"radiology", "pathology", "ecg", "reports"}
    blobs: dict[tuple[str, str], bytes] = {}
    for (pid, modality), rows in phi.groupby(["patient_id", "modality"]):
        blob = blobs.setdefault((pid, modality), b"".join(
            p.read_bytes() for p in sorted((small_cohort.root / modality / pid).rglob("*")) if p.is_file()))
        for _, r in rows.iterrows():
            if r["field"] == "label image pixels":
                continue  # rendered as pixels in the slide label
            assert r["value"].encode() in blob, (pid, modality, r["field"], r["value"])
    # no PHI in the clinical table
    clinical = (small_cohort.root / "clinical.csv").read_text()
    assert not any(v in clinical for v in phi["value"])


def _hashes(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(small_cohort, small_config, tmp_path):
    again = generate_cohort(tmp_path / "again", **small_config, workers=2)  # output must not depend on workers
    assert _hashes(again.root) == _hashes(small_cohort.root)
    other = generate_cohort(tmp_path / "other", **{**small_config, "seed": small_config["seed"] + 1},
                            modalities=("genomics", "reports"))
    a = (small_cohort.root / "clinical.csv").read_bytes()
    assert (other.root / "clinical.csv").read_bytes() != a


def test_phi_search_helper(small_cohort, tmp_path):
    phi = planted_phi(small_cohort.truth_dir)
    assert phi["is_date"].any() and (~phi["is_date"]).any()
    hits = find_planted_phi(small_cohort.root, small_cohort.truth_dir, patient_of=lambda rel: rel.split("/")[1]
                            if rel.count("/") >= 2 else None, skip=lambda rel: rel.startswith("truth/"))
    assert {h.value for h in hits} == set(phi["value"])
    assert all(h.file.split("/")[1] == h.patient_id for h in hits if h.field.endswith("Date"))
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "clinical.csv").write_bytes((small_cohort.root / "clinical.csv").read_bytes())
    assert find_planted_phi(clean, small_cohort.truth_dir) == []
