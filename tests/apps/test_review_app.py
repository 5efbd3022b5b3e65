"""The review app through streamlit's AppTest: login, navigation, review submission, roles, expiry."""

from __future__ import annotations

import time

import pytest
from clinfusion.review import audit, logins, reviews
from clinfusion.review.users import Session
from clinfusion.review.workspace_data import cohort_frame
from clinfusion.testing import apptest
from clinfusion.testing.app_images import inline_images
from clinfusion.workspace import Workspace
from streamlit.testing.v1 import AppTest

from .conftest import APP, N_PATIENTS, PASSWORD


@pytest.fixture
def app(review_ws, monkeypatch):
    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(review_ws))
    return AppTest.from_file(str(APP), default_timeout=120)


def login(at: AppTest, user: str, password: str = PASSWORD) -> AppTest:
    return apptest.login(at, user, password)


def test_every_page_requires_login(app):
    app.run()
    assert [t.value for t in app.title] == ["ClinFusion review"]
    assert [t.label for t in app.text_input] == ["user name", "password"]
    assert not app.dataframe  # nothing of the cohort before login


def test_wrong_password_is_refused_and_audited(app, review_ws):
    login(app, "clin", "not-the-password")
    assert "unknown user or wrong password" in [e.value for e in app.error]
    row = audit.read_log(review_ws).iloc[0]  # the typed name is kept only as a keyed hash
    assert (row["username"], row["action"]) == ("", "login_failed") and audit.keyed_hash(review_ws, "user:clin") in row["detail"]
    logins.clear(review_ws, [audit.keyed_hash(review_ws, "user:clin")])  # no back-off for the next tests' logins


def test_clinician_opens_a_patient_and_submits_a_review(app, review_ws):
    login(app, "clin")
    assert [t.value for t in app.title] == ["Cohort"] and not app.exception
    assert app.metric[0].value == str(N_PATIENTS)  # patients
    pid = app.selectbox(key="cohort_pick").value
    app.button(key="open_patient").click().run()
    assert [t.value for t in app.title] == [f"Patient {pid}"] and not app.exception
    assert any("cf_ct_viewer" in c.proto.component_name for c in app.get("component_instance"))  # CT volume viewer
    assert len(inline_images(app)) >= 3  # slide thumbnail + overlay, 12-lead ECG (inline, no /media URL)
    assert any(c.value.startswith("model: clinfusion-fusion-synthetic v1") for c in app.caption)
    app.selectbox(key=f"rv_{pid}_decision").set_value("comment").run()
    app.text_area(key=f"rv_{pid}_comment").input("pleural invasion on pathology, check CT")
    next(b for b in app.button if b.label == "Submit review").click().run()
    assert any(s.value.startswith("review #") for s in app.success)
    stored = reviews.list_reviews(review_ws, pid)
    assert stored.iloc[-1][["username", "decision", "comment"]].tolist() == ["clin", "comment",
                                                                             "pleural invasion on pathology, check CT"]
    log = audit.read_log(review_ws, patient_id=pid)
    assert {"view_patient", "review"} <= set(log["action"])


def test_researcher_sees_pseudonyms_and_cannot_review(app, review_ws):
    login(app, "res")
    assert not app.exception
    ids = set(cohort_frame(Workspace.open(review_ws))["patient_id"])
    shown = set(app.dataframe[-1].value["patient_id"])
    assert shown == ids and all(p.startswith("P") and len(p) == 13 for p in shown)
    app.switch_page("views/patient.py").run()
    assert any("can view but not submit reviews" in i.value for i in app.info)
    assert not [b for b in app.button if b.label == "Submit review"]
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in a researcher's navigation
        app.switch_page("views/audit.py")


def test_admin_sees_audit_log_and_reviews(app):
    login(app, "adm")
    app.switch_page("views/audit.py").run()
    assert [t.value for t in app.title] == ["Audit log and reviews"] and not app.exception
    assert "login" in set(app.dataframe[-1].value["action"])


def test_expired_session_returns_to_login(app):
    login(app, "clin")
    app.session_state["session"] = Session("clin", "clinician", expires_at=time.time() - 1)
    app.run()
    assert any("session expired" in w.value for w in app.warning)
    assert [t.value for t in app.title] == ["ClinFusion review"]


def test_experiments_page_lists_the_training_run_and_its_version(app):
    login(app, "res")
    app.switch_page("views/experiments.py").run()
    assert [t.value for t in app.title] == ["Experiments"] and not app.exception
    versions = app.dataframe[0].value
    runs = next(d.value for d in app.dataframe if {"run", "kind", "run_id"} <= set(d.value.columns))  # runs named by kind
    assert versions["name"].tolist() == ["clinfusion-fusion-synthetic"] and set(runs["run_id"]) == set(versions["run_id"])
