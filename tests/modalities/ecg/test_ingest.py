"""End to end on a tiny cohort: grouping, quarantine reasons, PHI, featurize cache, export, encoders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clinfusion.cli.app import main as cli
from clinfusion.featurize import featurize
from clinfusion.featurize.cache import load_tokens
from clinfusion.ingest.locate import real_paths
from clinfusion.ingest.runner import ingest
from clinfusion.modalities.ecg.features import ENCODERS, ResNet1dEncoder
from clinfusion.modalities.ecg.resnet1d import build_resnet1d, save_checkpoint
from clinfusion.modalities.export import export_modality
from clinfusion.modalities.registry import encoder_class
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.ecg import LEADS_12, synthetic_ecg, write_csv, write_wfdb

PHI = ("Octavia Quince", "4471029", "1987-03-14", "St. Ambrose Hospital")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("ecg_cohort")
    tc = write_tiny_cohort(root, n_patients=3)
    p0, p1, p2 = (root / "ecg" / p for p in tc.patients)
    comments = ["Age: 67", "Sex: Male", "Dx: 426783006", f"Name: {PHI[0]}", f"MRN: {PHI[1]}", f"DOB: {PHI[2]}",
                f"Site: {PHI[3]}"]
    write_wfdb(p0, "rest", synthetic_ecg(12, 500, hr_bpm=72, seed=0), 500, LEADS_12, comments)
    (p0 / "stray.dat").write_bytes(b"\x00\x01" * 500)
    x1 = synthetic_ecg(10, 250, hr_bpm=90, seed=1)
    write_csv(p1 / "exported.csv", x1 * 1.0, [f"Lead {n}" for n in LEADS_12], scale=1000.0, fs_hz=250)
    (p1 / "broken.hea").write_text("broken 12 five-hundred\nnot a signal line\n")
    write_wfdb(p2, "flat", np.zeros((3000, 12)), 500, LEADS_12)
    clipped = synthetic_ecg(20, 360, hr_bpm=60, seed=2)[:, [1, 10]]
    clipped[:, 0] = np.clip(clipped[:, 0], None, 0.5)
    write_wfdb(p2, "holter", clipped, 360, ["MLII", "V5"], ["69 M 1085 1629 x1"])
    (root / "cohort.yaml").write_text("name: tiny\nmodalities:\n  ecg:\n    options: {notch_hz: 60, csv_units: uV}\n")
    return tc


@pytest.fixture(scope="module")
def ingested(cohort, tmp_path_factory):
    ws_dir = tmp_path_factory.mktemp("ecg_ws")
    report = ingest(cohort.root, ws_dir, demo=True)
    cat = report.catalog[report.catalog["modality"] == "ecg"].copy()
    real = real_paths(report.workspace, cohort.root)  # stored paths are masked; the key maps them back
    cat["real"] = [real[s] for s in cat["source"]]
    return report.workspace, cat


def _by_source(cat: pd.DataFrame, suffix: str) -> pd.Series:
    hit = cat[cat["real"].str.endswith(suffix)]
    assert len(hit) == 1, (suffix, cat["real"].tolist())
    return hit.iloc[0]


def test_items_grouped_and_quarantined_with_reasons(ingested):
    _, cat = ingested
    rest = _by_source(cat, "rest.hea")
    assert rest["status"] == "ingested" and rest["n_files"] == 2
    assert "without a matching .hea" in _by_source(cat, "stray.dat")["reason"]
    assert "[fs]: sampling frequency" in _by_source(cat, "broken.hea")["reason"]  # named before wfdb parses it
    assert "every lead is flat" in _by_source(cat, "flat.hea")["reason"]
    assert set(cat["status"]) == {"ingested", "quarantined"}


def test_metadata_leads_rates_labels_and_measurements(ingested):
    _, cat = ingested
    rest = json.loads(_by_source(cat, "rest.hea")["meta_json"])
    assert rest["fs_hz"] == 500 and rest["n_windows"] == 1 and len(rest["leads_present"]) == 12
    assert rest["dx"] == ["426783006"] and rest["age"] == 67 and rest["sex"] == "M"
    assert rest["hr_bpm"] == pytest.approx(72, abs=2)
    assert 60 < rest["qt_ms"] < 500 and rest["qtc_ms"] > 0 and -180 <= rest["axis_deg"] <= 180
    csv = json.loads(_by_source(cat, "exported.csv")["meta_json"])
    assert csv["fs_original_hz"] == 250 and csv["format"] == "csv"
    assert csv["hr_bpm"] == pytest.approx(90, abs=3)
    holter = json.loads(_by_source(cat, "holter.hea")["meta_json"])
    assert holter["leads_present"] == ["II", "V5"] and holter["n_windows"] == 2
    assert holter["quality"]["II"] == ["clipped"] and holter["age"] == 69


def test_no_planted_phi_anywhere_in_the_workspace(ingested, cohort):
    ws, _ = ingested
    needles = [p.encode() for p in PHI] + [pid.encode() for pid in cohort.patients]
    for path in Path(ws.root).rglob("*"):
        if path.is_file() and ".secrets" not in path.parts:
            data = path.read_bytes()
            for needle in needles:
                assert needle not in data, (needle, path)


def test_signal_artifact_is_normalised(ingested):
    from clinfusion.modalities.ecg.artifact import load_signal

    ws, cat = ingested
    art = load_signal(ws.root / _by_source(cat, "exported.csv")["artifact_dir"])
    assert art.signal.shape == (1, 12, 5000) and art.signal.dtype == np.float32
    assert art.present.all() and art.fs_hz == 500
    assert 0.5 < np.ptp(art.signal[0, 1]) < 3.0  # lead II in mV after the uV option


def test_featurize_cli_caches_and_rerun_does_no_work(ingested, capsys):
    ws, _ = ingested
    assert cli(["featurize", "--workspace", str(ws.root), "--modality", "ecg"]) == 0
    first = capsys.readouterr().out
    assert cli(["featurize", "--workspace", str(ws.root), "--modality", "ecg"]) == 0
    rep = featurize(ws, encoder_class("ecg")())
    assert rep.encoded == [] and len(rep.cached) == 3, first
    tokens = load_tokens(ws, "ecg")
    lens = sorted(t.n_tokens for t in tokens.values())
    assert lens == [2, 12, 12]  # holter II+V5; 12 leads each for the others
    ts = next(t for t in tokens.values() if t.n_tokens == 2)
    assert ts.names == ["II", "V5"] and ts.feature_names[0] == "r_amp_mv"
    assert ts.tokens[0, ts.feature_names.index("flag_clipped")] == 1.0


def test_window_tokens_and_resnet_encoders(ingested, tmp_path):
    ws, _ = ingested
    rep = featurize(ws, ENCODERS["ecg_features"]({"tokens": "window"}))
    assert not rep.failed
    arch = ResNet1dEncoder({"dim": 8, "width": 4, "n_blocks": 2}).config.arch()
    model = build_resnet1d(**arch)
    ckpt = tmp_path / "r.pt"
    save_checkpoint(model, ckpt, arch)
    enc = ResNet1dEncoder({"dim": 8, "width": 4, "n_blocks": 2, "checkpoint": str(ckpt)})
    rep = featurize(ws, enc)
    assert not rep.failed and len(rep.encoded) == 3
    lead_enc = ResNet1dEncoder({"dim": 8, "width": 4, "n_blocks": 2, "level": "lead", "random_init": True})
    assert not featurize(ws, lead_enc).failed
    tok = load_tokens(ws, "ecg", "resnet1d")
    assert {t.dim for t in tok.values()} == {8}


def test_export_table(ingested, tmp_path):
    ws, _ = ingested
    assert cli(["export", str(ws.root), "--modality", "ecg", "--out", str(tmp_path / "ecg.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "ecg.csv")) == 3
    df = export_modality(ws, "ecg")
    assert len(df) == 3
    for col in ("patient_id", "record", "fs_hz", "leads", "duration_s", "quality_flags", "hr_bpm", "pr_ms",
                "qrs_ms", "qt_ms", "qtc_ms", "axis_deg", "dx_codes"):
        assert col in df.columns
    assert "II:clipped" in set(df["quality_flags"])
    assert "426783006" in set(df["dx_codes"])
