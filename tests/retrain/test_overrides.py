"""Clinicians' overrides become corrected diagnosis labels, with provenance."""

from __future__ import annotations

import numpy as np
import pandas as pd
from clinfusion.retrain.overrides import PROVENANCE_COLUMNS, as_mapping, label_overrides
from clinfusion.review.reviews import Review, submit
from clinfusion.training.dataset import cohort_from_frames, with_diagnosis


def test_latest_override_per_patient_with_who_and_why(tmp_path):
    (tmp_path / "workspace.json").write_text("{}")
    assert label_overrides(tmp_path).empty  # no review store yet
    submit(tmp_path, Review(patient_id="P1", target="diagnosis", predicted="a", decision="override",
                            corrected="b", reason="pathology re-read"), "drsmith", "clinician")
    submit(tmp_path, Review(patient_id="P1", target="diagnosis", predicted="a", decision="override",
                            corrected="c", reason="second opinion"), "drjones", "clinician")
    submit(tmp_path, Review(patient_id="P2", target="diagnosis", decision="accept"), "drsmith", "clinician")
    submit(tmp_path, Review(patient_id="P3", target="risk_group", predicted="high", decision="override",
                            corrected="low", reason="x"), "drsmith", "clinician")
    got = label_overrides(tmp_path, "diagnosis")
    assert list(got.columns) == list(PROVENANCE_COLUMNS)
    assert len(got) == 1 and got.iloc[0]["username"] == "drjones" and got.iloc[0]["reason"] == "second opinion"
    assert as_mapping(got) == {"P1": "c"}


def test_with_diagnosis_replaces_labels_and_adds_unknown_classes():
    clin = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "survival_time": [1.0, 2.0, 3.0], "event": [1, 0, 1],
                         "diagnosis": ["a", "b", "a"]})
    data = cohort_from_frames(clin, {}, covariates=[])
    out = with_diagnosis(data, {"P1": "b", "P3": "c", "P9": "a"})
    assert out.classes == ["a", "b", "c"]
    assert [out.classes[i] for i in out.diagnosis] == ["b", "b", "c"]
    assert np.array_equal(data.diagnosis, [0, 1, 0])  # the input is not modified
