"""The review form offers exactly the shared schema's choices, keeps what was typed when a submit is
refused, and a diagnosis override from the app is what retraining reads as that patient's label."""

from __future__ import annotations

import pytest
from clinfusion.retrain.overrides import label_overrides
from clinfusion.review import reviews
from streamlit.testing.v1 import AppTest

from .conftest import APP, PASSWORD


@pytest.fixture
def app(review_ws, monkeypatch):
    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(review_ws))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.text_input[0].input("clin")
    at.text_input[1].input(PASSWORD)
    at.button[0].click()
    return at.run()


def _submit(at: AppTest) -> AppTest:
    return next(b for b in at.button if b.label == "Submit review").click().run()


def test_override_form_offers_the_schema_keeps_input_and_becomes_a_label(app, review_ws):
    pid = app.selectbox(key="cohort_pick").value
    app.button(key="open_patient").click().run()
    k = f"rv_{pid}_"
    assert app.selectbox(key=k + "decision").options == ["accept", "override", "comment"]
    assert app.selectbox(key=k + "target").options == ["diagnosis", "risk group"]
    app.selectbox(key=k + "target").set_value("risk_group").run()
    app.selectbox(key=k + "decision").set_value("override").run()
    assert app.selectbox(key=k + "corrected").options == ["low", "intermediate", "high"]
    app.selectbox(key=k + "target").set_value("diagnosis").run()
    classes = app.selectbox(key=k + "corrected").options
    assert len(classes) >= 2 and "high" not in classes  # the model's class names, not free text
    app.selectbox(key=k + "corrected").set_value(classes[-1])
    app.text_area(key=k + "comment").input("biopsy result came back")
    _submit(app)  # no reason typed
    assert any("needs: reason" in e.value and "kept" in e.value for e in app.error)
    assert app.selectbox(key=k + "corrected").value == classes[-1]
    assert app.text_area(key=k + "comment").value == "biopsy result came back"
    assert reviews.list_reviews(review_ws, pid).query("decision == 'override'").empty
    app.text_input(key=k + "reason").input("histology of the resection")
    _submit(app)
    assert any(s.value.endswith("saved (override) on diagnosis") for s in app.success) and not app.exception
    assert app.text_input(key=k + "reason").value == ""  # cleared after a saved review
    row = reviews.list_reviews(review_ws, pid).iloc[-1]
    assert row[["decision", "target", "corrected", "reason", "username"]].tolist() == [
        "override", "diagnosis", classes[-1], "histology of the resection", "clin"]
    assert row["model_name"] == "clinfusion-fusion-synthetic" and row["model_version"] == "1"
    labels = label_overrides(review_ws)
    assert labels.set_index("patient_id").loc[pid, "corrected"] == classes[-1]
