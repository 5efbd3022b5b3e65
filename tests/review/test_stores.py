"""Users, audit log and review store, each test against SQLite and against a real PostgreSQL 15 server.

The PostgreSQL server is started once per module by ``clinfusion.testing.postgres`` (initdb +
pg_ctl on a loopback port); every test gets a fresh database in it. Without the PostgreSQL
binaries the ``postgresql`` cases skip with the reason.
"""

from __future__ import annotations

import itertools
import json
import sqlite3

import pandas as pd
import pytest
import sqlalchemy as sa
from clinfusion.review import audit, reviews, store, users
from clinfusion.review.store import DB_ENV, ReviewError, db_path
from clinfusion.testing import postgres

_counter = itertools.count()


@pytest.fixture(scope="module")
def pg_server():
    why = postgres.unavailable()
    if why:
        pytest.skip(why)
    server = postgres.PostgresServer.start()
    yield server
    store.dispose_all()
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch) -> str:
    """The store URL of this test (``""``: the workspace's SQLite file), also set as $CLINFUSION_REVIEW_DB."""
    monkeypatch.delenv(DB_ENV, raising=False)
    if request.param == "sqlite":
        return ""
    url = request.getfixturevalue("pg_server").create_database(f"t{next(_counter)}")
    monkeypatch.setenv(DB_ENV, url)
    return url


@pytest.fixture
def ws(tmp_path, backend):
    (tmp_path / "workspace.json").write_text(json.dumps({"format_version": 1}))
    return tmp_path


def test_passwords_are_hashed_and_checked(ws, backend):
    users.add_user(ws, "alice", "correct horse", "clinician", rounds=4)
    with store.engine(ws).connect() as con:
        raw = bytes(con.execute(sa.select(store.USERS.c.password_hash)).scalar_one())
    assert b"correct horse" not in raw and raw.startswith(b"$2")
    assert db_path(ws).exists() == (backend == "")  # PostgreSQL: nothing in the workspace
    s = users.authenticate(ws, "alice", "correct horse", ttl_minutes=1, now=1000.0)
    assert (s.username, s.role, s.expires_at) == ("alice", "clinician", 1060.0)
    with pytest.raises(ReviewError, match="wrong password"):
        users.authenticate(ws, "alice", "wrong horse!", now=2000.0)
    with pytest.raises(ReviewError, match="wrong password"):
        users.authenticate(ws, "mallory", "correct horse", now=3000.0)
    for hostile in ("a\x00b", "x" * 10_000, "' OR 1=1 --"):  # never a crash, never a match
        with pytest.raises(ReviewError, match="wrong password"):
            users.authenticate(ws, hostile, "correct horse", now=4000.0)


def test_passwords_longer_than_72_bytes_are_refused(ws):
    long_pw = "é" * 37  # 37 characters, 74 bytes in UTF-8
    with pytest.raises(ReviewError, match="74 bytes long; bcrypt accepts at most 72"):
        users.add_user(ws, "alice", long_pw, "clinician", rounds=4)
    users.add_user(ws, "alice", "x" * 72, "clinician", rounds=4)  # exactly 72 bytes is fine
    with pytest.raises(ReviewError, match="at most 72 bytes"):
        users.authenticate(ws, "alice", "x" * 73, now=1000.0)
    assert users.authenticate(ws, "alice", "x" * 72, now=2000.0).username == "alice"


def test_sessions_expire_and_roles_grant_permissions():
    s = users.Session("bob", "researcher", expires_at=100.0)
    assert s.valid(now=99.9) and not s.valid(now=100.0)
    assert s.can("view") and not s.can("review") and not s.can("audit") and not s.can("review_text")
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


def test_reviews_follow_the_shared_schema(ws):
    choices = reviews.target_choices(["LUAD", "LUSC"])
    assert choices == {"diagnosis": ("LUAD", "LUSC"), "risk_group": ("low", "intermediate", "high")}
    bad = [
        (reviews.Review(patient_id="P1", decision="override", target="diagnosis", corrected="LUSC"), "needs: reason"),
        (reviews.Review(patient_id="P1", decision="override", target="diagnosis", reason="r"), "needs: corrected"),
        (reviews.Review(patient_id="P1", decision="override", target="diagnosis", corrected="SCLC", reason="r"),
         r"'SCLC' is not one of \['LUAD', 'LUSC'\]"),
        (reviews.Review(patient_id="P1", decision="override", target="risk_group", corrected="very high", reason="r"),
         "not one of"),
        (reviews.Review(patient_id="P1", decision="accept", target="risk group"), "unknown target 'risk group'"),
        (reviews.Review(patient_id="P1", decision="accept"), "needs: target"),
        (reviews.Review(patient_id="P1", decision="maybe"), "unknown decision"),
    ]
    for review, message in bad:
        with pytest.raises(ReviewError, match=message):
            reviews.submit(ws, review, "alice", "clinician", choices=choices)
    with pytest.raises(ReviewError, match="may not submit"):
        reviews.submit(ws, reviews.Review(patient_id="P1", decision="comment", comment="x"), "bob", "researcher")
    assert reviews.list_reviews(ws).empty


def test_reviews_store_list_redact_and_export(ws, tmp_path):
    acc = reviews.Review(patient_id="Pabc", model_name="m", model_version="1", target="risk_group", predicted="high",
                         decision="accept")
    rid = reviews.submit(ws, acc, "alice", "clinician")
    over = reviews.Review(patient_id="Pxyz", model_name="m", model_version="1", target="diagnosis", predicted="LUAD",
                          decision="override", corrected="LUSC", reason="=HYPERLINK(\"x\")", comment="see report")
    reviews.submit(ws, over, "amy", "admin", choices=reviews.target_choices(["LUAD", "LUSC"]))
    table = reviews.list_reviews(ws)
    assert list(table.columns) == list(reviews.COLUMNS) and list(table["id"]) == [rid, rid + 1]
    assert table.iloc[1][["username", "model_name", "target", "decision", "corrected"]].tolist() == [
        "amy", "m", "diagnosis", "override", "LUSC"]
    assert len(reviews.list_reviews(ws, "Pxyz")) == 1
    redacted = reviews.for_role(table, "researcher")
    assert not {"username", "role", "reason", "comment"} & set(redacted.columns)
    assert list(reviews.for_role(table, "clinician").columns) == list(reviews.COLUMNS)
    out = tmp_path / "out" / "reviews.csv"
    assert reviews.export_reviews(ws, out, actor="ops") == 2
    back = pd.read_csv(out)
    assert list(back.columns) == list(reviews.COLUMNS) and back["decision"].tolist() == ["accept", "override"]
    assert back["reason"].iloc[1].startswith("'=")  # no formula runs when the CSV is opened in a spreadsheet
    assert audit.read_log(ws).iloc[0][["username", "action"]].tolist() == ["ops", "export_reviews"]
    with pytest.raises(ReviewError, match=r"\.csv or \.parquet"):
        reviews.export_reviews(ws, tmp_path / "reviews.xlsx")


def test_explicit_url_wins_over_the_environment(tmp_path, pg_server, monkeypatch):
    (tmp_path / "workspace.json").write_text("{}")
    url = pg_server.create_database(f"t{next(_counter)}")
    monkeypatch.setenv(DB_ENV, "sqlite:////nonexistent/dir/x.sqlite")
    users.add_user(tmp_path, "alice", "longenough", "admin", rounds=4, db=url)
    assert [u["username"] for u in users.list_users(tmp_path, db=url)] == ["alice"]
    assert store.describe(tmp_path, url).startswith("postgresql+psycopg://clinfusion@127.0.0.1:")
    assert store.exists(tmp_path, url) and not db_path(tmp_path).exists()


def test_an_older_sqlite_store_is_migrated(tmp_path, monkeypatch):
    """A store made before the shared schema: old rows stay readable, ``risk group`` reads as ``risk_group``."""
    monkeypatch.delenv(DB_ENV, raising=False)
    (tmp_path / "workspace.json").write_text("{}")
    path = db_path(tmp_path)
    path.parent.mkdir()
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE users (username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash BLOB NOT NULL, created_at REAL NOT NULL);
        CREATE TABLE reviews (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, username TEXT NOT NULL,
          role TEXT NOT NULL, patient_id TEXT NOT NULL, model_version TEXT NOT NULL, target TEXT NOT NULL,
          predicted TEXT NOT NULL, decision TEXT NOT NULL, corrected TEXT NOT NULL, reason TEXT NOT NULL, comment TEXT NOT NULL);
        INSERT INTO reviews VALUES (1, 10.0, 'alice', 'clinician', 'P1', 'm v1', 'risk group', 'high risk', 'accept', '', '', '');
    """)
    con.commit()
    con.close()
    table = reviews.list_reviews(tmp_path)
    assert table.iloc[0][["id", "model_name", "target"]].tolist() == [1, "", "risk_group"]
    users.add_user(tmp_path, "bob", "longenough", "clinician", rounds=4)
    assert users.authenticate(tmp_path, "bob", "longenough").changed_at > 0
