"""Acceptance: retrain registers a champion, featurizes only new patients, gates a weakened
challenger out, and a rollback restores the previous champion (CLI, small ECG cohort)."""

from __future__ import annotations

import json

import pytest
import yaml
from clinfusion.cli.app import main
from clinfusion.tracking.registry import aliases, client, default_model_name, events

TRAIN = {"folds": 2, "bootstrap": 0, "baselines": ["clinical_cox"], "model": {"hidden": 8, "n_bins": 2},
         "optim": {"epochs": 2, "patience": 1}}
GATE = {"n_bootstrap": 100, "min_common_patients": 10, "min_subgroup_patients": 6,
        "subgroups": [{"column": "sex"}, {"column": "age", "bins": [0, 65, 200]}]}


def _config(path, cohort, **extra):
    path.write_text(yaml.safe_dump({"cohort_dir": str(cohort), "train": TRAIN, "gate": GATE, **extra}))
    return str(path)


def _summary(out: str) -> dict:
    path = out.strip().splitlines()[-1].split("summary ")[-1]
    return json.loads(open(path).read())


@pytest.mark.slow
def test_retrain_scenario(growing_cohort, tmp_path, capsys):
    from clinfusion.review.reviews import Review, submit

    ws = tmp_path / "ws"
    cfg = _config(tmp_path / "retrain.yaml", growing_cohort.live)
    growing_cohort.release(22)
    assert main(["retrain", "-w", str(ws), "-c", cfg]) == 0
    first = _summary(capsys.readouterr().out)
    name = default_model_name(ws)
    assert first["status"] == "first-champion" and first["train"]["alias"] == "champion"
    assert aliases(ws, name) == {"champion": "1"}

    assert main(["retrain", "-w", str(ws), "-c", cfg]) == 0  # nothing changed
    out = capsys.readouterr().out
    assert "no new data: not retraining" in out and _summary(out)["status"] == "no-new-data"

    growing_cohort.release(30)  # 8 new patients
    assert main(["retrain", "-w", str(ws), "-c", cfg]) == 0
    out = capsys.readouterr().out
    second = _summary(out)
    ecg = next(r for r in second["featurize"] if r["modality"] == "ecg")
    assert (ecg["encoded"], ecg["cached"]) == (8, 22)  # only the new patients' ECGs were encoded
    assert second["ingest"]["processed"] == 9  # 8 ECG records + the changed clinical table
    assert second["train"]["alias"] == "challenger" and second["status"] in {"kept", "promoted"}
    assert second["drift"]["n_new"] == 8 and second["gate"]["n_patients"] >= 10
    assert "gate" in out

    # a weakened challenger: the clinical modality (tokens and covariates) dropped; overrides used as labels
    pid = _first_patient(ws)
    submit(ws, Review(patient_id=pid, target="diagnosis", predicted="adenocarcinoma", decision="override",
                      corrected="squamous_cell", reason="pathology re-read"), "drsmith", "clinician")
    champion_before = aliases(ws, name)["champion"]
    submit(ws, Review(patient_id=pid, model_name=name, model_version=champion_before, target="risk_group",
                      predicted="high", decision="override", corrected="low", reason="frail, not high risk"),
           "drsmith", "clinician")
    weak = _config(tmp_path / "weak.yaml", growing_cohort.live,  # overrides are used by default
                   train={**TRAIN, "modalities": ["ecg"], "covariates": []})
    assert main(["retrain", "-w", str(ws), "-c", weak, "--force"]) == 0
    out = capsys.readouterr().out
    third = _summary(out)
    assert third["status"] == "kept" and third["gate"]["reasons"], third["gate"]
    assert "KEEP champion" in out and aliases(ws, name)["champion"] == champion_before
    c = client(ws)
    gate_runs = c.search_runs([c.get_experiment_by_name("clinfusion-synthetic").experiment_id],
                              "tags.`clinfusion.kind` = 'gate'")
    assert {r.data.tags["decision"] for r in gate_runs} >= {"keep"}
    assert any("gate.cindex.diff" in r.data.metrics for r in gate_runs)
    run = c.get_run(third["train"]["run_id"])
    tags = run.data.tags
    assert tags["label_overrides.count"] == "1" and tags["label_overrides.applied"] == "1"
    assert tags["label_overrides.roles"] == "clinician" and tags["label_overrides.reviewers"].startswith("U")
    assert third["overrides"][0]["patient_id"] == pid and third["overrides"][0]["reviewer"].startswith("U")
    from clinfusion.tracking.registry import run_table

    used = run_table(ws, third["train"]["run_id"], "label_overrides.csv")
    assert used[["patient_id", "corrected", "reason"]].values.tolist() == [[pid, "squamous_cell", "pathology re-read"]]
    labels = run_table(ws, third["train"]["run_id"], "training_labels.csv").set_index("patient_id")
    assert labels.loc[pid, ["diagnosis", "label_source"]].tolist() == ["squamous_cell", "override"]
    assert "drsmith" not in str(tags) + used.to_csv()  # no user names in MLflow
    dis = third["gate"]["disagreements"]  # risk-group overrides: disagreements, not labels
    assert (dis["reviewed"], dis["overridden"], dis["groups"][0]["corrected_to"]) == (1, 1, {"low": 1})
    assert "disagreements: clinicians overrode 1 of 1" in out

    # a human promotes the latest challenger, then rolls back
    challenger = aliases(ws, name)["challenger"]
    assert main(["registry", "promote", "-w", str(ws), "--reason", "trial", "--user", "alice"]) == 0
    assert aliases(ws, name)["champion"] == challenger
    assert main(["registry", "rollback", "-w", str(ws), "--reason", "worse in clinic"]) == 0
    assert aliases(ws, name)["champion"] == champion_before
    assert [e["action"] for e in events(ws, name)][-2:] == ["promote", "rollback"]
    assert main(["registry", "show", "-w", str(ws)]) == 0
    assert "champion" in capsys.readouterr().out


def _first_patient(ws) -> str:
    from clinfusion.training.dataset import clinical_table
    from clinfusion.workspace import Workspace

    return str(clinical_table(Workspace.open(ws))["patient_id"].iloc[0])
