"""Drift report: a cohort with ECG availability and heart rate shifted on purpose is flagged."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from clinfusion.retrain.config import DriftConfig
from clinfusion.retrain.drift import catalog_features, drift_report, psi


def _catalog(ids, hr, has_ecg):
    rows = [{"item_id": f"ecg-{p}", "patient_id": p, "modality": "ecg", "status": "ingested", "patients_json": "[]",
             "meta_json": json.dumps({"hr_bpm": float(h), "qrs_ms": 100.0 + i % 7})}
            for i, (p, h, keep) in enumerate(zip(ids, hr, has_ecg, strict=True)) if keep]
    rows.append({"item_id": "clin", "patient_id": "", "modality": "clinical", "status": "ingested",
                 "patients_json": json.dumps(list(ids)), "meta_json": "{}"})
    return pd.DataFrame(rows)


def _cohorts(shift: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    ref, new = [f"R{i:03d}" for i in range(80)], [f"N{i:03d}" for i in range(40)]
    hr = np.concatenate([rng.normal(70, 8, 80), rng.normal(100 if shift else 70, 8, 40)])
    have = np.concatenate([rng.random(80) < 0.9, rng.random(40) < (0.4 if shift else 0.9)])
    events = np.concatenate([rng.random(80) < 0.5, rng.random(40) < 0.5]).astype(int)
    outcomes = pd.DataFrame({"patient_id": ref + new, "event": events})
    return ref, new, _catalog(ref + new, hr, have), outcomes


def test_shifted_ecg_availability_and_heart_rate_are_flagged():
    ref, new, catalog, outcomes = _cohorts(shift=True)
    have, feats = catalog_features(catalog)
    rep = drift_report(ref, new, have, feats, outcomes, DriftConfig())
    warned = {(r.modality, r.name) for r in rep.warnings.itertuples()}
    assert ("ecg", "share of patients") in warned
    assert ("ecg", "hr_bpm") in warned
    assert ("ecg", "qrs_ms") not in warned  # unshifted feature
    hr = rep.rows.set_index("name").loc["hr_bpm"]
    assert hr["new"] - hr["reference"] == pytest.approx(30, abs=5) and hr["psi"] > 0.25 and hr["ks_p"] < 1e-6
    md = rep.markdown()
    assert "hr_bpm" in md and "WARN" in md and md.startswith("# Drift report: 40 new patients vs 80")


def test_same_distribution_gives_no_warning():
    ref, new, catalog, outcomes = _cohorts(shift=False)
    have, feats = catalog_features(catalog)
    rep = drift_report(ref, new, have, feats, outcomes, DriftConfig())
    assert rep.warnings.empty, rep.warnings
    assert set(rep.rows["kind"]) == {"availability", "feature", "outcome"}


def test_psi_is_zero_on_identical_samples_and_grows_with_shift():
    rng = np.random.default_rng(1)
    a = rng.normal(size=500)
    assert psi(a, a) == pytest.approx(0.0, abs=1e-9)
    assert psi(a, a + 0.2) < psi(a, a + 1.0)
    assert psi(np.zeros(50), np.zeros(30)) < 0.01  # constant feature (smoothing leaves a trace)
