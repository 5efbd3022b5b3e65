"""Users, audit log and review store on a bare workspace directory."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest
from clinfusion.review import audit, reviews, users
from clinfusion.review.store import ReviewError, db_path


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "workspace.json").write_text(json.dumps({"format_version": 1}))
    return tmp_path


def test_passwords_are_hashed_and_checked(ws):
    users.add_user(ws, "alice", "correct horse", "clinician", rounds=4)
    raw = sqlite3.connect(db_path(ws)).execute("SELECT password_hash FROM users").fetchone()[0]
    assert b"correct horse" not in bytes(raw) and bytes(raw).startswith(b"$2")
    s = users.authenticate(ws, "alice", "correct horse", ttl_minutes=1, now=1000.0)
    assert (s.username, s.role, s.expires_at) == ("alice", "clinician", 1060.0)
    with pytest.raises(ReviewError, match="wrong password"):
        users.authenticate(ws, "alice", "wrong horse!")
    with pytest.raises(ReviewError, match="wrong password"):
        users.authenticate(ws, "mallory", "correct horse")


def test_sessions_expire_and_roles_grant_permissions():
    s = users.Session("bob", "researcher", expires_at=100.0)
    assert s.valid(now=99.9) and not s.valid(now=100.0)
    assert s.can("view") and not s.can("review") and not s.can("audit")
    assert users.Session("a", "admin", 1.0).can("audit")
    assert users.Session("c", "clinician", 1.0).can("review")


def test_user_validation_list_and_remove(ws):
    with pytest.raises(ReviewError, match="unknown role 'doctor'"):
        users.add_user(ws, "bob", "longenough", "doctor", rounds=4)
    with pytest.raises(ReviewError, match="at least 8"):
        users.add_user(ws, "bob", "short", "researcher", rounds=4)
    users.add_user(ws, "bob", "longenough", "researcher", rounds=4)
    users.add_user(ws, "amy", "longenough", "admin", rounds=4)
    assert [(u["username"], u["role"]) for u in users.list_users(ws)] == [("amy", "admin"), ("bob", "researcher")]
    users.remove_user(ws, "bob")
    assert [u["username"] for u in users.list_users(ws)] == ["amy"]
    with pytest.raises(ReviewError, match="no user 'bob'"):
        users.remove_user(ws, "bob")


def test_store_refuses_a_non_workspace(tmp_path):
    with pytest.raises(ReviewError, match=r"workspace\.json missing"):
        users.list_users(tmp_path)


def test_audit_log_records_who_what_when(ws):
    audit.record(ws, "alice", "clinician", "view_patient", "Pabc", tab="ecg")
    audit.record(ws, "bob", "researcher", "view_cohort")
    log = audit.read_log(ws)
    assert list(log["action"]) == ["view_cohort", "view_patient"]  # newest first
    assert log.iloc[1]["patient_id"] == "Pabc" and json.loads(log.iloc[1]["detail"]) == {"tab": "ecg"}
    assert str(log["time"].dt.tz) == "UTC"
    assert list(audit.read_log(ws, patient_id="Pabc")["username"]) == ["alice"]
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(ws, "alice", "clinician", "delete_everything")


def test_reviews_validate_store_and_export(ws, tmp_path):
    acc = reviews.Review(patient_id="Pabc", model_version="m v1", target="risk group", predicted="high risk", decision="accept")
    rid = reviews.submit(ws, acc, "alice", "clinician")
    with pytest.raises(ReviewError, match="corrected value and a reason"):
        reviews.submit(ws, reviews.Review(patient_id="Pabc", decision="override", corrected="low risk"), "alice", "clinician")
    with pytest.raises(ReviewError, match="may not submit"):
        reviews.submit(ws, acc, "bob", "researcher")
    with pytest.raises(ReviewError, match="unknown decision"):
        reviews.submit(ws, reviews.Review(patient_id="Pabc", decision="maybe"), "alice", "clinician")
    over = reviews.Review(patient_id="Pxyz", predicted="high risk", decision="override", corrected="low risk",
                          reason="recent resection", comment="see report")
    reviews.submit(ws, over, "amy", "admin")
    table = reviews.list_reviews(ws)
    assert list(table["id"]) == [rid, rid + 1]
    assert table.iloc[1][["username", "decision", "corrected", "reason"]].tolist() == ["amy", "override", "low risk",
                                                                                       "recent resection"]
    assert len(reviews.list_reviews(ws, "Pxyz")) == 1
    out = tmp_path / "out" / "reviews.csv"
    assert reviews.export_reviews(ws, out) == 2
    back = pd.read_csv(out)
    assert list(back.columns) == list(reviews.COLUMNS) and back["decision"].tolist() == ["accept", "override"]
    with pytest.raises(ReviewError, match=r"\.csv or \.parquet"):
        reviews.export_reviews(ws, tmp_path / "reviews.xlsx")
