"""A tiny synthetic cohort (clinfusion.synth) ingests, and no planted PHI reaches the workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from clinfusion.ingest.runner import ingest


@pytest.fixture(scope="module")
def synth_ws(tmp_path_factory):
    from clinfusion.synth import generate_cohort

    out = tmp_path_factory.mktemp("ecg_synth")
    res = generate_cohort(out / "cohort", n_patients=3, seed=0, scale="small", modalities=("ecg",))
    report = ingest(res.root, out / "ws", demo=True)
    return res, report


def test_synthetic_ecgs_ingest_with_measurements(synth_ws):
    _, report = synth_ws
    cat = report.catalog[report.catalog["modality"] == "ecg"]
    assert len(cat) >= 3 and (cat["status"] == "ingested").all(), cat[["source", "reason"]].to_string()
    for meta in map(json.loads, cat["meta_json"]):
        assert meta["n_windows"] >= 1 and meta["leads_present"]
        assert meta["hr_bpm"] is None or 30 < meta["hr_bpm"] < 200


def test_planted_phi_absent_from_every_byte(synth_ws):
    res, report = synth_ws
    phi = pd.read_csv(Path(res.truth_dir) / "phi.csv", dtype=str)
    needles = {v for v in phi.loc[phi["modality"] == "ecg", "value"] if isinstance(v, str) and len(v) >= 4}
    assert needles, "synth planted no ECG PHI"
    for path in Path(report.workspace.root).rglob("*"):
        if path.is_file() and ".secrets" not in path.parts:
            data = path.read_bytes()
            leaked = [n for n in needles if n.encode() in data]
            assert not leaked, (leaked, path)
