"""Users, roles and sessions of the review app.

Passwords are stored only as bcrypt hashes (cost 12 by default). Roles grant permissions:

- ``clinician``: view patients, submit reviews;
- ``researcher``: view pseudonymous, de-identified data and experiments; no reviews;
- ``admin``: everything, plus the audit log.

A :class:`Session` expires ``ttl_minutes`` after login; the app checks it on every page.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from clinfusion.review.store import ReviewError, connect

ROLES: dict[str, frozenset[str]] = {
    "clinician": frozenset({"view", "review"}),
    "researcher": frozenset({"view"}),
    "admin": frozenset({"view", "review", "audit"}),
}
DEFAULT_TTL_MINUTES = 480
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash BLOB NOT NULL, created_at REAL NOT NULL);
"""


@dataclass(frozen=True)
class Session:
    """A logged-in user until ``expires_at`` (Unix seconds)."""

    username: str
    role: str
    expires_at: float

    def valid(self, now: float | None = None) -> bool:
        """True while the session has not expired."""
        return (time.time() if now is None else now) < self.expires_at

    def can(self, permission: str) -> bool:
        """True when the role grants ``permission`` (``view``, ``review``, ``audit``)."""
        return permission in ROLES.get(self.role, frozenset())


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ReviewError(f"unknown role {role!r}; expected one of {sorted(ROLES)}", field="role")


def add_user(ws_root: str | Path, username: str, password: str, role: str, *, rounds: int = 12) -> None:
    """Create a user (or replace the password and role of an existing one).

    Raises:
        ReviewError: bad user name, password shorter than 8 characters, or unknown role.
    """
    import bcrypt

    _check_role(role)
    if not USERNAME_RE.match(username):
        raise ReviewError("user name must be 2-64 letters, digits, '_', '.' or '-'", field="username")
    if len(password) < MIN_PASSWORD:
        raise ReviewError(f"password must have at least {MIN_PASSWORD} characters", field="password")
    digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds))
    with connect(ws_root, _SCHEMA) as con:
        con.execute("INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)", (username, role, digest, time.time()))


def remove_user(ws_root: str | Path, username: str) -> None:
    """Delete a user.

    Raises:
        ReviewError: no such user.
    """
    with connect(ws_root, _SCHEMA) as con:
        if con.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount == 0:
            raise ReviewError(f"no user {username!r}", field="username")


def list_users(ws_root: str | Path) -> list[dict[str, str]]:
    """Users as ``{"username", "role", "created_at"}`` (ISO time), sorted by name; never hashes."""
    with connect(ws_root, _SCHEMA) as con:
        rows = con.execute("SELECT username, role, created_at FROM users ORDER BY username").fetchall()
    return [{"username": r["username"], "role": r["role"],
             "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r["created_at"]))} for r in rows]


def authenticate(ws_root: str | Path, username: str, password: str, *,
                 ttl_minutes: float = DEFAULT_TTL_MINUTES, now: float | None = None) -> Session:
    """Check a password and open a session.

    Raises:
        ReviewError: unknown user or wrong password (the same message for both).
    """
    import bcrypt

    with connect(ws_root, _SCHEMA) as con:
        row = con.execute("SELECT role, password_hash FROM users WHERE username = ?", (username,)).fetchone()
    if row is None or not bcrypt.checkpw(password.encode(), bytes(row["password_hash"])):
        raise ReviewError("unknown user or wrong password", field="password")
    start = time.time() if now is None else now
    return Session(username=username, role=row["role"], expires_at=start + ttl_minutes * 60)
