"""Synthetic cohort -> ingest -> featurize -> train (2 folds) through the CLI, checking the results JSON."""

from __future__ import annotations

import json

import pytest
import yaml
from clinfusion.cli.app import main

CFG = {"model": {"hidden": 8, "n_bins": 2}, "optim": {"epochs": 2, "patience": 1}, "bootstrap": 0,
       "baselines": ["clinical_cox", "coxnet", "unimodal"]}


@pytest.mark.slow
def test_synthetic_cohort_end_to_end_json_shape(tmp_path, monkeypatch):
    from clinfusion.synth import generate_cohort

    monkeypatch.setenv("CLINFUSION_PSEUDONYM_KEY", "end-to-end-test-key-0123")
    cohort, ws = tmp_path / "cohort", tmp_path / "ws"
    generate_cohort(cohort, n_patients=24, seed=0, scale="small", modalities=("ecg",))
    assert main(["ingest", str(cohort), "-w", str(ws)]) == 0
    assert main(["featurize", "-w", str(ws), "-m", "ecg"]) == 0
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(CFG))
    out = tmp_path / "res.json"
    assert main(["train", "-w", str(ws), "-c", str(tmp_path / "cfg.yaml"), "--folds", "2", "--json", str(out),
                 "--no-mlflow"]) == 0
    res = json.loads(out.read_text())
    assert res["task"] == "survival" and res["folds"] == 2 and res["n_patients"] == 24
    assert res["modalities"] == ["ecg"]
    assert {"fusion", "clinical_cox", "coxnet", "unimodal_ecg"} <= set(res["models"])
    for m in res["models"].values():
        assert len(m["cindex"]) == 2 and 0.0 <= m["cindex_mean"] <= 1.0
        assert {"cindex_sd", "td_auc_mean", "ibs_mean"} <= set(m)
    assert 0.5 <= res["oracle"]["cindex"] <= 1.0
    assert set(res["robustness"]) >= {"full", "without_ecg", "mcar@0.3", "mnar@0.3"}
    assert set(res["contributions"]) == {"ecg"}
    assert "mlflow_run_id" not in res
