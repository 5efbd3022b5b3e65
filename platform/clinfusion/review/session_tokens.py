"""Signed, expiring session tokens: a browser reload keeps the login, logout ends it everywhere.

A token is ``<payload>.<signature>``, both URL-safe base64 without padding: the payload is the
JSON ``{"u": user, "r": role, "exp": expiry (Unix s), "chg": the user record's changed_at,
"id": random token id}``, the signature its HMAC-SHA256 under a random server-side secret kept in
``WS/.secrets/session.key`` (0600, made once, never in the review store or the browser). The app
keeps the token in the page URL (``?session=...``, Streamlit cannot set cookies) and checks it on
every page run (:func:`session_from_token`): a tampered or malformed token, an expired one, and
one revoked by a logout (table ``revoked_sessions`` of the review store, shared by replicas) are
refused; the user store is re-checked as for any session
(:func:`clinfusion.review.users.validate_session`: removed user, changed role or password).

The token grants what the login granted until it expires (``CLINFUSION_SESSION_MINUTES``): a URL
copied out of the browser is as good as the session, so it is not to be shared, and logging out
revokes it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path

import sqlalchemy as sa

from clinfusion.review.store import REVOKED_SESSIONS, ReviewError, engine
from clinfusion.review.users import Session, validate_session
from clinfusion.workspace.keyfile import secret_bytes

SECRET_PATH = Path(".secrets") / "session.key"
QUERY_PARAM = "session"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secret(ws_root: str | Path) -> bytes:
    """The signing secret ``WS/.secrets/session.key`` (32 random bytes, hex; 0600), made on first use.

    Created atomically by :func:`clinfusion.workspace.keyfile.secret_bytes`, so two app processes
    starting at once agree on one secret.
    """
    return secret_bytes(Path(ws_root) / SECRET_PATH)


def _sign(ws_root: str | Path, payload: str) -> str:
    return _b64(hmac.new(secret(ws_root), payload.encode("ascii"), hashlib.sha256).digest())


def issue(ws_root: str | Path, session: Session) -> tuple[str, Session]:
    """A signed token for ``session`` and the session carrying its token id.

    Returns:
        ``(token, session)``; the token expires with the session (``session.expires_at``).
    """
    token_id = secrets.token_hex(16)
    body = {"u": session.username, "r": session.role, "exp": session.expires_at, "chg": session.changed_at,
            "id": token_id}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{payload}.{_sign(ws_root, payload)}", Session(session.username, session.role, session.expires_at,
                                                            session.changed_at, token_id)


def decode(ws_root: str | Path, token: str, *, now: float | None = None) -> Session:
    """The session a token stands for, checking only the token itself (signature, shape, expiry).

    Raises:
        ReviewError: ``malformed`` (not ``payload.signature`` or a bad payload), ``bad signature``
            (tampered, or signed with another workspace's secret) or ``expired``.
    """
    parts = (token or "").split(".")
    if len(parts) != 2 or not all(parts):
        raise ReviewError("session token is malformed", field=QUERY_PARAM)
    payload, signature = parts
    if not hmac.compare_digest(signature, _sign(ws_root, payload)):
        raise ReviewError("session token has a bad signature", field=QUERY_PARAM)
    try:
        body = json.loads(_unb64(payload))
        session = Session(str(body["u"]), str(body["r"]), float(body["exp"]), float(body["chg"]), str(body["id"]))
    except (ValueError, KeyError, TypeError):
        raise ReviewError("session token is malformed", field=QUERY_PARAM) from None
    if not session.valid(now):
        raise ReviewError("session token expired", field=QUERY_PARAM)
    return session


def is_revoked(ws_root: str | Path, token_id: str, *, db: str | None = None) -> bool:
    """True when a logout revoked the token ``token_id``."""
    q = sa.select(REVOKED_SESSIONS.c.token_id).where(REVOKED_SESSIONS.c.token_id == token_id)
    with engine(ws_root, db).connect() as con:
        return con.execute(q).first() is not None


def session_from_token(ws_root: str | Path, token: str, *, now: float | None = None, db: str | None = None) -> Session:
    """The session of a token from the browser, validated server-side.

    Raises:
        ReviewError: the token is malformed, tampered, expired or revoked, or the user was removed or
            changed since the login (the message says which).
    """
    session = decode(ws_root, token, now=now)
    why = validate_session(ws_root, session, now=now, db=db)  # revoked, removed or changed user
    if why:
        raise ReviewError(f"session token is no longer valid: {_WHY.get(why, why)}", field=QUERY_PARAM)
    return session


_WHY = {"revoked": "revoked (logged out)", "removed": "the user was removed",
        "changed": "the user's role or password changed", "expired": "expired"}


def revoke(ws_root: str | Path, session: Session, *, now: float | None = None, db: str | None = None) -> None:
    """End ``session``'s token (logout) for every replica of the store; past-expiry rows are purged."""
    if not session.token_id:
        return
    now = time.time() if now is None else now
    with engine(ws_root, db).begin() as con:
        con.execute(sa.delete(REVOKED_SESSIONS).where(REVOKED_SESSIONS.c.expires_at < now))
        if con.execute(sa.select(REVOKED_SESSIONS.c.token_id)
                       .where(REVOKED_SESSIONS.c.token_id == session.token_id)).first() is None:
            con.execute(sa.insert(REVOKED_SESSIONS).values(token_id=session.token_id, revoked_at=now,
                                                           expires_at=session.expires_at))
