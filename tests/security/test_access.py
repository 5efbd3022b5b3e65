"""Access to the review app (issue 23, "PHI walls" and "Access"): one test per item.

A small clinical-only workspace (no model) and three users; the app is driven through Streamlit's
AppTest, the library directly where time has to be controlled (back-off, lockout).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clinfusion.review import audit, logins, reviews, users
from clinfusion.review.store import DB_ENV, ReviewError, db_path
from clinfusion.testing import apptest, postgres, write_tiny_cohort
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "apps" / "review" / "app.py"
PASSWORD = "access-pass-1"


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    from clinfusion.ingest import ingest

    base = tmp_path_factory.mktemp("access")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(DB_ENV, raising=False)
        cohort = write_tiny_cohort(base / "cohort", n_patients=4)
        ingest(cohort.root, base / "ws", demo=True)
        for name, role in {"clin": "clinician", "res": "researcher", "adm": "admin"}.items():
            users.add_user(base / "ws", name, PASSWORD, role, rounds=4)
    return base / "ws"


@pytest.fixture
def app(ws, monkeypatch):
    monkeypatch.setenv("CLINFUSION_WORKSPACE", str(ws))
    monkeypatch.delenv(DB_ENV, raising=False)
    return AppTest.from_file(str(APP), default_timeout=120)


def login(at: AppTest, user: str, password: str = PASSWORD) -> AppTest:
    return apptest.login(at, user, password)


def test_failed_login_stores_a_keyed_hash_of_the_typed_name_never_the_text(app, ws):
    typed = "Tr0ub4dor&3-typed-as-name"  # a password typed into the user-name field
    login(app, typed, "whatever-else")
    assert "unknown user or wrong password" in [e.value for e in app.error]
    row = audit.read_log(ws).iloc[0]
    assert (row["action"], row["username"]) == ("login_failed", "")
    assert json.loads(row["detail"])["name_hash"] == audit.keyed_hash(ws, f"user:{typed}")
    key_hex = (ws / audit.AUDIT_KEY_PATH).read_text().strip()
    assert oct((ws / audit.AUDIT_KEY_PATH).stat().st_mode & 0o777) == "0o600"
    for f in db_path(ws).parent.iterdir():  # the SQLite file and its WAL
        assert typed.encode() not in f.read_bytes(), f.name
        assert key_hex.encode() not in f.read_bytes(), f.name  # a copy of the store cannot recompute the hashes


def test_backoff_and_lockout_per_user_and_per_client(ws, monkeypatch):
    policy = logins.LoginPolicy(max_failures=3, lockout_s=600, backoff_base_s=10, backoff_max_s=60, window_s=600)
    users.add_user(ws, "lock-me", PASSWORD, "clinician", rounds=4)
    t = 10_000.0
    with pytest.raises(ReviewError, match="wrong password"):
        users.authenticate(ws, "lock-me", "wrong-1", now=t, client="10.0.0.1", policy=policy)
    with pytest.raises(users.LoginRefused, match="try again in 5 s"):  # back-off: 10 s after one failure, even with the right password
        users.authenticate(ws, "lock-me", PASSWORD, now=t + 5, client="10.0.0.2", policy=policy)
    with pytest.raises(ReviewError, match="wrong password"):
        users.authenticate(ws, "lock-me", "wrong-2", now=t + 11, client="10.0.0.2", policy=policy)
    with pytest.raises(users.LoginRefused, match="try again in 6 s"):  # exponential: 10 s, then 20 s (from t + 11)
        users.authenticate(ws, "lock-me", PASSWORD, now=t + 25, policy=policy)
    with pytest.raises(ReviewError, match="wrong password"):
        users.authenticate(ws, "lock-me", "wrong-3", now=t + 40, policy=policy)
    with pytest.raises(users.LoginRefused, match="try again in 540 s"):  # third failure: locked out for 600 s
        users.authenticate(ws, "lock-me", PASSWORD, now=t + 100, policy=policy)
    assert users.authenticate(ws, "lock-me", PASSWORD, now=t + 641, policy=policy).username == "lock-me"
    # per client: one address guessing many names is slowed down too, also for names that exist
    for i, name in enumerate(["nobody-1", "nobody-2", "nobody-3"]):
        with pytest.raises(ReviewError, match="wrong password"):
            users.authenticate(ws, name, "guess", now=t + 1000 + 100 * i, client="10.9.9.9", policy=policy)
    with pytest.raises(users.LoginRefused):
        users.authenticate(ws, "lock-me", PASSWORD, now=t + 1400, client="10.9.9.9", policy=policy)
    assert users.authenticate(ws, "lock-me", PASSWORD, now=t + 1400, client="10.1.1.1", policy=policy)
    actions = audit.read_log(ws)["action"].tolist()
    assert {"login_locked", "lockout", "login"} <= set(actions)
    # the app reads the limits from the environment
    monkeypatch.setenv("CLINFUSION_LOGIN_MAX_FAILURES", "7")
    monkeypatch.setenv("CLINFUSION_LOGIN_LOCKOUT_S", "60")
    assert (logins.LoginPolicy.from_env().max_failures, logins.LoginPolicy.from_env().lockout_s) == (7, 60.0)
    monkeypatch.setenv("CLINFUSION_LOGIN_LOCKOUT_S", "soon")
    with pytest.raises(ReviewError, match="CLINFUSION_LOGIN_LOCKOUT_S"):
        logins.LoginPolicy.from_env()


def test_unknown_user_and_wrong_password_cost_the_same_bcrypt_check(ws, monkeypatch):
    import bcrypt

    calls: list[int] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, digest: calls.append(int(digest.split(b"$")[2])) or real(pw, digest))
    answers = []
    for name in ("clin", "no-such-user"):
        with pytest.raises(ReviewError) as err:
            users.authenticate(ws, name, "wrong-password", now=50_000.0 + len(calls) * 1e4)
        answers.append(err.value.message)
    assert answers[0] == answers[1] == users.FAILED
    # one bcrypt check each; the unknown user's is against a dummy hash of the production cost
    assert calls == [4, users.DEFAULT_ROUNDS]


def test_removed_or_role_changed_users_session_stops_working(app, ws):
    users.add_user(ws, "leaver", PASSWORD, "clinician", rounds=4)
    login(app, "leaver")
    assert [t.value for t in app.title] == ["Cohort"]
    pid = app.selectbox(key="cohort_pick").value
    app.button(key="open_patient").click().run()
    app.text_area(key=f"rv_{pid}_comment").input("typed before removal")
    users.remove_user(ws, "leaver", actor="adm")
    next(b for b in app.button if b.label == "Submit review").click().run()
    assert reviews.list_reviews(ws, pid).query("username == 'leaver'").empty  # nothing saved after removal
    assert [t.value for t in app.title] == ["ClinFusion review"]
    assert any("changed or removed" in w.value for w in app.warning)
    # a role change ends the session as well
    users.add_user(ws, "mover", PASSWORD, "admin", rounds=4)
    login(app, "mover")
    assert [t.value for t in app.title] != ["ClinFusion review"] and not app.exception  # logged in
    users.add_user(ws, "mover", PASSWORD, "researcher", rounds=4)
    app.run()
    assert [t.value for t in app.title] == ["ClinFusion review"]
    log = audit.read_log(ws)
    assert {"user_remove", "user_change", "session_revoked"} <= set(log["action"])


def test_researchers_see_reviews_without_names_or_free_text_and_views_are_audited(app, ws, tmp_path):
    from clinfusion.cli.app import main

    login(app, "res")
    pid = app.selectbox(key="cohort_pick").value
    reviews.submit(ws, reviews.Review(patient_id=pid, decision="comment", comment="name of the GP: Dr Who"), "clin",
                   "clinician")
    app.button(key="open_patient").click().run()
    shown = app.dataframe[-1].value
    assert len(shown) >= 1 and not {"username", "role", "comment", "reason"} & set(shown.columns)
    app.switch_page("views/experiments.py").run()
    assert audit.read_log(ws).iloc[0][["username", "action"]].tolist() == ["res", "view_experiments"]
    admin = AppTest.from_file(str(APP), default_timeout=120)
    login(admin, "adm")
    admin.switch_page("views/audit.py").run()
    assert not admin.exception
    assert audit.read_log(ws).iloc[0][["username", "action"]].tolist() == ["adm", "view_audit"]
    assert "comment" in admin.dataframe[0].value.columns  # admins see the full review
    export = next(b for b in admin.button if b.label == "Export reviews (CSV)")
    export.click().run()  # audited, then an inline data: link, no /media file
    assert "export_reviews" in audit.read_log(ws)["action"].head(2).tolist()
    assert any("cf-download" in m.value and "data:text/csv;base64," in m.value for m in admin.markdown)
    assert main(["reviews", "export", "--workspace", str(ws), "--out", str(tmp_path / "r.csv")]) == 0
    assert audit.read_log(ws).iloc[0]["action"] == "export_reviews"
    assert main(["export", str(ws), "--modality", "clinical", "--out", str(tmp_path / "c.csv")]) == 0
    assert audit.read_log(ws).iloc[0]["action"] == "export"


def test_app_login_with_a_password_over_72_bytes_is_refused_clearly(app):
    login(app, "adm", "ß" * 40)  # 80 bytes in UTF-8
    assert not app.exception
    assert any("80 bytes long; bcrypt accepts at most 72 bytes" in e.value for e in app.error)
    assert [t.value for t in app.title] == ["ClinFusion review"]


def test_app_uses_a_postgresql_review_store_shared_by_replicas(ws, monkeypatch):
    """Two app sessions (as two replicas would) on one PostgreSQL store: users, back-off and audit are shared."""
    from clinfusion.review.store import dispose_all

    why = postgres.unavailable()
    if why:
        pytest.skip(why)
    with postgres.PostgresServer.start() as pg:
        url = pg.create_database("replicas")
        monkeypatch.setenv("CLINFUSION_WORKSPACE", str(ws))
        monkeypatch.setenv(DB_ENV, url)
        monkeypatch.setenv("CLINFUSION_LOGIN_BACKOFF_S", "300")
        users.add_user(ws, "pg-clin", PASSWORD, "clinician", rounds=4)
        first = login(AppTest.from_file(str(APP), default_timeout=120), "pg-clin", "wrong-password")
        assert "unknown user or wrong password" in [e.value for e in first.error]
        second = login(AppTest.from_file(str(APP), default_timeout=120), "pg-clin")  # another replica, same store
        assert any("too many failed logins" in e.value for e in second.error)
        logins.clear(ws, [audit.keyed_hash(ws, "user:pg-clin")])
        third = login(AppTest.from_file(str(APP), default_timeout=120), "pg-clin")
        assert [t.value for t in third.title] == ["Cohort"] and not third.exception
        assert audit.read_log(ws)["action"].tolist()[:4] == ["view_cohort", "login", "login_locked", "login_failed"]
        monkeypatch.delenv(DB_ENV)
        assert "pg-clin" not in [u["username"] for u in users.list_users(ws)]  # nothing in the SQLite store
        dispose_all()
