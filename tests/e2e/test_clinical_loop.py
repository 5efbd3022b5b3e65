"""Acceptance: the clinical loop train -> register -> serve -> review -> retrain -> gate -> promote -> rollback.

train (champion v1) -> the app shows v1 with out-of-fold risks -> a clinician overrides a diagnosis
in the app -> `clinfusion retrain` trains v2 on that label and its gate keeps v1 -> the app still
shows v1 (patients ingested since get v1's final model) -> promote v2 -> the app shows v2 -> rollback
-> v1 again. Small ECG-only synthetic cohort, tiny model, real CLI, real MLflow registry, AppTest.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from clinfusion.cli.app import main
from clinfusion.testing.growing import GrowingCohort

APP = Path(__file__).resolve().parents[2] / "apps" / "review" / "app.py"
PASSWORD = "loop-pass-123"
TRAIN = {"folds": 2, "bootstrap": 20, "baselines": [], "model": {"hidden": 8, "n_bins": 2},
         "optim": {"epochs": 2, "patience": 1}, "loss": {"diagnosis": 0.5}}
# a gate no tiny challenger can pass (deterministic "keep"): more common patients than the cohort has
GATE = {"n_bootstrap": 50, "min_common_patients": 1000, "min_subgroup_patients": 6, "subgroups": [{"column": "sex"}]}


def _cli(*args: str, ok: tuple[int, ...] = (0,)) -> None:
    rc = main(list(args))
    assert rc in ok, f"clinfusion {' '.join(args)} exited {rc}"


class Clinician:
    """One logged-in AppTest session of the review app on a patient's page."""

    def __init__(self, ws: Path, monkeypatch) -> None:
        from streamlit.testing.v1 import AppTest

        monkeypatch.setenv("CLINFUSION_WORKSPACE", str(ws))
        self.app = AppTest.from_file(str(APP), default_timeout=180)
        self.app.run()
        self.app.text_input[0].input("dr_loop")
        self.app.text_input[1].input(PASSWORD)
        self.app.button[0].click()
        self.app.run()
        assert not self.app.exception

    def open(self, pid: str) -> Clinician:
        self.app.session_state["patient"] = pid
        self.app.switch_page("views/patient.py").run()
        assert not self.app.exception
        return self

    def rerun(self) -> Clinician:
        self.app.run()
        assert not self.app.exception
        return self

    @property
    def model(self) -> str:
        return next(c.value for c in self.app.caption if c.value.startswith("model: "))

    @property
    def source(self) -> str:
        return next(m.value for m in self.app.markdown if m.value.startswith("**prediction source:"))

    def override_diagnosis(self, pid: str, corrected: str, reason: str) -> None:
        k = f"rv_{pid}_"
        self.app.selectbox(key=k + "decision").set_value("override").run()
        self.app.selectbox(key=k + "target").set_value("diagnosis").run()
        self.app.selectbox(key=k + "corrected").set_value(corrected)
        self.app.text_input(key=k + "reason").input(reason)
        next(b for b in self.app.button if b.label == "Submit review").click().run()
        assert not self.app.exception and not self.app.error, [e.value for e in self.app.error]


@pytest.mark.slow
def test_train_serve_review_retrain_gate_promote_rollback(tmp_path, monkeypatch):
    import streamlit as st
    from clinfusion.ingest import ingest
    from clinfusion.review.predictions import load_predictions
    from clinfusion.review.reviews import list_reviews
    from clinfusion.review.users import add_user
    from clinfusion.review.workspace_data import clinical_table
    from clinfusion.tracking.registry import aliases, client, default_model_name, run_table
    from clinfusion.workspace import Workspace

    cohort, ws = GrowingCohort.generate(tmp_path, 24, seed=5), tmp_path / "ws"
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(TRAIN))
    cohort.release(20)
    ingest(cohort.live, ws, demo=True)
    _cli("featurize", "--workspace", str(ws), ok=(0, 2))  # 2: featurize reported unusable items
    _cli("train", "--workspace", str(ws), "--config", str(tmp_path / "train.yaml"))
    name = default_model_name(ws)
    assert aliases(ws, name) == {"champion": "1"}
    add_user(ws, "dr_loop", PASSWORD, "clinician", rounds=4)

    # 1. the app shows champion v1, out-of-fold for the patients it was trained on
    preds, why = load_predictions(ws)
    assert why == "" and preds.table["source"].eq("out-of-fold").all() and len(preds.table) == 20
    pid = preds.table.index[0]
    st.cache_data.clear()
    dr = Clinician(ws, monkeypatch).open(pid)
    assert dr.model.startswith(f"model: {name} v1 (alias: champion)") and "out-of-fold (fold " in dr.source

    # 2. the clinician overrides this patient's diagnosis in the app
    truth = clinical_table(Workspace.open(ws)).set_index("patient_id").loc[pid, "diagnosis"]
    corrected = next(c for c in preds.classes() if c != truth)
    dr.override_diagnosis(pid, corrected, "resection histology")
    review = list_reviews(ws, pid).iloc[-1]
    assert review[["decision", "target", "corrected"]].tolist() == ["override", "diagnosis", corrected]

    # 3. four new patients arrive; retrain trains v2 on the override; the gate keeps v1
    cohort.release(24)
    cfg = tmp_path / "retrain.yaml"
    # no `overrides:` key: diagnosis overrides are training labels by default
    cfg.write_text(yaml.safe_dump({"cohort_dir": str(cohort.live), "demo_key": True, "train": TRAIN, "gate": GATE}))
    _cli("retrain", "--workspace", str(ws), "--config", str(cfg))
    assert aliases(ws, name) == {"champion": "1", "challenger": "2"}
    v2_run = client(ws).get_model_version(name, "2").run_id
    tags = client(ws).get_run(v2_run).data.tags
    assert tags["label_overrides.applied"] == "1" and tags["label_overrides.reviews"] == str(review["id"])
    used = run_table(ws, v2_run, "label_overrides.csv")
    assert used[["patient_id", "corrected", "reason"]].values.tolist() == [[pid, corrected, "resection histology"]]
    assert "dr_loop" not in used.to_csv()  # reviewer pseudonymised in the run
    labels = run_table(ws, v2_run, "training_labels.csv").set_index("patient_id")
    assert labels.loc[pid, ["diagnosis", "label_source"]].tolist() == [corrected, "override"]
    assert (labels.drop(index=pid)["label_source"] == "clinical").all()

    # 4. the app still shows v1 (the gate kept it); a patient ingested since gets v1's final model
    assert dr.rerun().model.startswith(f"model: {name} v1 (alias: champion)")
    preds, _ = load_predictions(ws)
    new = preds.table.index[preds.table["source"] == "final model"].tolist()
    assert len(new) == 4 and pd.Index(new).isin(load_predictions(ws, alias="challenger")[0].table.index).all()
    assert "final model (patient not in its training set" in dr.open(new[0]).source

    # 5. promote v2: the same session shows v2 at its next rerun (the new patient is now out-of-fold)
    _cli("registry", "promote", "--workspace", str(ws), "--version", "2", "--reason", "reviewed by the tumour board")
    dr.rerun()
    assert dr.model.startswith(f"model: {name} v2 (alias: champion)") and "out-of-fold" in dr.source

    # 6. roll back: v1 again
    _cli("registry", "rollback", "--workspace", str(ws), "--reason", "calibration drift on the ward")
    dr.rerun()
    assert dr.model.startswith(f"model: {name} v1 (alias: champion)") and "final model" in dr.source
    assert aliases(ws, name)["champion"] == "1"
