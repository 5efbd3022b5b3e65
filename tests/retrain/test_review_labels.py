"""Reviews are labels (issue 15): diagnosis overrides used by default, recorded without user names;
risk-group overrides counted as disagreements; retrain featurizes with the encoders training uses."""

from __future__ import annotations

import math

import pandas as pd
from clinfusion.privacy.keys import PseudonymKey
from clinfusion.retrain import load_retrain_config
from clinfusion.retrain.gate import disagreements
from clinfusion.retrain.overrides import RUN_COLUMNS, reviewer_pseudonym, risk_group_reviews
from clinfusion.retrain.steps import featurize_jobs, overrides_step
from clinfusion.review.reviews import Review, submit


def test_overrides_are_used_by_default():
    cfg = load_retrain_config()
    assert cfg.overrides.enabled and cfg.overrides.target == "diagnosis"
    assert cfg.overrides.disagreement_target == "risk_group"


def test_recorded_overrides_name_a_keyed_pseudonym_and_role_not_the_user(tmp_path):
    (tmp_path / "workspace.json").write_text("{}")
    rid = submit(tmp_path, Review(patient_id="P1", target="diagnosis", predicted="a", decision="override",
                                  corrected="b", reason="resection histology per Dr. Jane Okafor, MRN 4455123"),
                 "dr.smith", "clinician")
    submit(tmp_path, Review(patient_id="P2", target="risk_group", predicted="high", decision="override",
                            corrected="low", reason="x"), "dr.smith", "clinician")
    rows = overrides_step(tmp_path, load_retrain_config())
    assert len(rows) == 1 and list(rows[0]) == list(RUN_COLUMNS)
    row = rows[0]
    assert (row["review_id"], row["patient_id"], row["corrected"], row["role"]) == (rid, "P1", "b", "clinician")
    assert "dr.smith" not in str(rows) and row["reviewer"].startswith("U") and len(row["reviewer"]) == 13
    assert "resection histology" in row["reason"]  # the reason's meaning stays, its PHI does not
    assert "Okafor" not in row["reason"] and "4455123" not in row["reason"]
    other = PseudonymKey(b"another-key-0123456789", "test")
    assert reviewer_pseudonym("dr.smith", other) != row["reviewer"]  # keyed: not a plain hash of the name
    assert overrides_step(tmp_path, load_retrain_config({"overrides": {"enabled": False}})) == []


def test_risk_group_disagreements_per_predicted_group(tmp_path):
    (tmp_path / "workspace.json").write_text("{}")
    for pid, pred, decision, corrected in [("P1", "high", "override", "low"), ("P2", "high", "accept", ""),
                                           ("P3", "low", "accept", ""), ("P4", "high", "override", "intermediate")]:
        submit(tmp_path, Review(patient_id=pid, model_name="m", model_version="1", target="risk_group", predicted=pred,
                                decision=decision, corrected=corrected, reason="r" if corrected else ""),
               "dr", "clinician")
    submit(tmp_path, Review(patient_id="P3", model_name="m", model_version="2", target="risk_group", predicted="low",
                            decision="override", corrected="high", reason="other version"), "dr", "clinician")
    got = disagreements(risk_group_reviews(tmp_path), "m", "1")
    assert (got["reviewed"], got["overridden"]) == (4, 2) and got["rate"] == 0.5
    high, low = got["groups"]
    assert (high["predicted"], high["reviewed"], high["overridden"]) == ("high", 3, 2)
    assert high["corrected_to"] == {"low": 1, "intermediate": 1}
    assert (low["predicted"], low["overridden"], low["rate"]) == ("low", 0, 0.0)
    empty = disagreements(risk_group_reviews(tmp_path), "m", "9")
    assert empty["reviewed"] == 0 and math.isnan(empty["rate"]) and empty["groups"] == []
    assert disagreements(pd.DataFrame(columns=["patient_id", "model_name", "model_version", "predicted", "decision",
                                               "corrected"]), "m", "1")["reviewed"] == 0


def test_retrain_featurizes_with_the_encoders_the_training_config_uses(tmp_path):
    cfg = load_retrain_config({"modalities": ["ecg", "clinical"], "train": {"encoders": {"ecg": "resnet1d"}}})
    assert featurize_jobs(tmp_path, cfg) == [("ecg", "resnet1d"), ("clinical", "covariates")]


def test_retrain_featurizes_the_cache_training_reads_not_a_new_default(tmp_path):
    """Without ``encoders:``, training reads the only cache there is (here ecg: resnet1d); featurizing
    the default instead would make training switch encoders behind the user's back."""
    import json

    from clinfusion.ingest import ingest
    from clinfusion.testing import write_tiny_cohort

    cohort = write_tiny_cohort(tmp_path / "cohort", n_patients=3)
    ingest(cohort.root, tmp_path / "ws", demo=True)
    index = tmp_path / "ws" / "tokens" / "ecg" / "resnet1d" / "index.json"
    index.parent.mkdir(parents=True)
    index.write_text(json.dumps({"patients": {}}))
    cfg = load_retrain_config({"modalities": ["ecg", "clinical"]})
    assert featurize_jobs(tmp_path / "ws", cfg) == [("ecg", "resnet1d"), ("clinical", "covariates")]
