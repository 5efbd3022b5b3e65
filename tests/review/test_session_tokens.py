"""Signed, expiring session tokens: login -> token validates; tampered, expired, revoked, changed users fail."""

from __future__ import annotations

import json
import os
import time

import pytest
from clinfusion.review import session_tokens, users
from clinfusion.review.store import ReviewError


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "workspace.json").write_text(json.dumps({"format_version": 1}))
    users.add_user(tmp_path, "alice", "correct horse", "clinician", rounds=4)
    return tmp_path


def _login(ws, ttl_minutes: float = 10.0):
    s = users.authenticate(ws, "alice", "correct horse", ttl_minutes=ttl_minutes)
    return session_tokens.issue(ws, s)


def test_token_from_login_validates_and_round_trips(ws):
    token, s = _login(ws)
    back = session_tokens.session_from_token(ws, token)
    assert back == s and back.username == "alice" and back.role == "clinician" and len(back.token_id) == 32
    assert users.validate_session(ws, back) == ""
    secret = ws / session_tokens.SECRET_PATH
    assert oct(secret.stat().st_mode & 0o777) == "0o600" and len(secret.read_text().strip()) == 64
    assert secret.read_text().strip() not in token  # the secret never leaves the server


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
    lambda t: t.replace(t.split(".")[0], t.split(".")[0][:-1] + ("A" if t.split(".")[0][-1] != "A" else "B")),  # payload
    lambda t: t.split(".")[0],  # no signature
    lambda t: "",
    lambda t: "not.a.token",
])
def test_tampered_or_malformed_tokens_fail(ws, mutate):
    token, _ = _login(ws)
    with pytest.raises(ReviewError, match="malformed|bad signature"):
        session_tokens.session_from_token(ws, mutate(token))


def test_forged_payload_with_admin_role_fails(ws):
    token, _ = _login(ws)
    payload = json.loads(session_tokens._unb64(token.split(".")[0]))
    payload["r"] = "admin"
    forged = session_tokens._b64(json.dumps(payload).encode()) + "." + token.split(".")[1]
    with pytest.raises(ReviewError, match="bad signature"):
        session_tokens.session_from_token(ws, forged)


def test_token_of_another_workspace_fails(ws, tmp_path_factory):
    other = tmp_path_factory.mktemp("other")
    (other / "workspace.json").write_text(json.dumps({"format_version": 1}))
    users.add_user(other, "alice", "correct horse", "clinician", rounds=4)
    token, _ = session_tokens.issue(other, users.authenticate(other, "alice", "correct horse"))
    with pytest.raises(ReviewError, match="bad signature"):
        session_tokens.session_from_token(ws, token)


def test_expired_token_fails(ws):
    token, s = _login(ws, ttl_minutes=1)
    assert session_tokens.session_from_token(ws, token, now=s.expires_at - 1).username == "alice"
    with pytest.raises(ReviewError, match="expired"):
        session_tokens.session_from_token(ws, token, now=s.expires_at + 1)


def test_logout_revokes_the_token(ws):
    token, s = _login(ws)
    other_token, other = _login(ws)
    session_tokens.revoke(ws, s)
    with pytest.raises(ReviewError, match="revoked"):
        session_tokens.session_from_token(ws, token)
    assert users.validate_session(ws, s) == "revoked"  # an open tab of the same login ends too
    assert session_tokens.session_from_token(ws, other_token) == other  # another login is unaffected
    session_tokens.revoke(ws, s)  # twice is harmless


def test_user_change_voids_the_token(ws):
    token, _ = _login(ws)
    users.add_user(ws, "alice", "another horse", "researcher", rounds=4)
    with pytest.raises(ReviewError, match="role or password changed"):
        session_tokens.session_from_token(ws, token)
    users.remove_user(ws, "alice")
    with pytest.raises(ReviewError, match="removed"):
        session_tokens.session_from_token(ws, token)


def test_revocations_past_expiry_are_purged(ws):
    import sqlalchemy as sa
    from clinfusion.review.store import REVOKED_SESSIONS, engine

    _, old = _login(ws, ttl_minutes=1)
    session_tokens.revoke(ws, old)
    _, new = _login(ws)
    session_tokens.revoke(ws, new, now=time.time() + 3600)
    with engine(ws).connect() as con:
        ids = {r[0] for r in con.execute(sa.select(REVOKED_SESSIONS.c.token_id))}
    assert ids == {new.token_id}
    assert os.path.exists(ws / "review" / "review.sqlite")
