"""`clinfusion users` and `clinfusion reviews` from the command line: readable refusals, --review-db."""

from __future__ import annotations

import pytest
from clinfusion.cli.app import main
from clinfusion.review import audit, users
from clinfusion.review.store import DB_ENV, db_path
from clinfusion.testing import postgres
from clinfusion.workspace import Workspace


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.delenv(DB_ENV, raising=False)
    return Workspace.create_or_open(tmp_path / "ws", cohort_name="c", cohort_dir=tmp_path, key_fingerprint="k").root


def test_password_longer_than_72_bytes_is_refused_without_traceback(ws, capsys):
    rc = main(["users", "add", "alice", "--role", "clinician", "--workspace", str(ws), "--password", "p" * 73])
    out = capsys.readouterr()
    assert rc == 1 and "Traceback" not in out.out + out.err
    assert "73 bytes long; bcrypt accepts at most 72 bytes" in out.out + out.err
    assert users.list_users(ws) == []


def test_users_and_reviews_commands_accept_review_db(ws, tmp_path, capsys):
    why = postgres.unavailable()
    if why:
        pytest.skip(why)
    from clinfusion.review.store import dispose_all

    with postgres.PostgresServer.start() as pg:
        url = pg.create_database("cli")
        assert main(["users", "add", "alice", "--role", "admin", "--workspace", str(ws), "--password", "longenough",
                     "--review-db", url]) == 0
        assert main(["users", "list", "--workspace", str(ws), "--review-db", url]) == 0
        assert "alice" in capsys.readouterr().out
        assert main(["reviews", "export", "--workspace", str(ws), "--out", str(tmp_path / "r.csv"), "--review-db", url]) == 0
        assert [u["username"] for u in users.list_users(ws, db=url)] == ["alice"]
        assert audit.read_log(ws, db=url)["action"].tolist() == ["export_reviews", "user_add"]
        assert main(["users", "remove", "alice", "--workspace", str(ws), "--review-db", url]) == 0
        assert users.list_users(ws, db=url) == []
        assert not db_path(ws).exists()  # nothing went to the workspace's SQLite file
        dispose_all()
