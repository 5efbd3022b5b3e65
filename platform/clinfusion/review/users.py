"""Users, roles and sessions of the review app.

Passwords are stored only as bcrypt hashes (cost 12 by default); bcrypt reads at most 72 bytes, so
longer passwords are refused rather than silently truncated. Roles grant permissions:

- ``clinician``: view patients, submit reviews, read reviewers' names and free text;
- ``researcher``: view pseudonymous, de-identified data and experiments; reviews without user
  names or free text; no reviews of their own;
- ``admin``: everything, plus the audit log.

A :class:`Session` expires ``ttl_minutes`` after login, and the app re-checks it against the user
store on every page run (:func:`validate_session`): removing a user, or changing their role or
password, ends their open sessions. Logins are audited and throttled (:mod:`clinfusion.review.logins`).
"""

from __future__ import annotations

import getpass
import re
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlalchemy as sa

from clinfusion.review import audit, logins
from clinfusion.review.store import USERS, ReviewError, engine

ROLES: dict[str, frozenset[str]] = {
    "clinician": frozenset({"view", "review", "review_text"}),
    "researcher": frozenset({"view"}),
    "admin": frozenset({"view", "review", "review_text", "audit"}),
}
DEFAULT_TTL_MINUTES = 480
DEFAULT_ROUNDS = 12
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (bcrypt 5: refuses) everything past 72 bytes
FAILED = "unknown user or wrong password"


class LoginRefused(ReviewError):
    """A login attempt refused before the password was checked (back-off or lockout).

    Attributes:
        retry_after_s: seconds until the next attempt is allowed.
    """

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many failed logins: try again in {max(1, round(retry_after_s))} s", field="password")


@dataclass(frozen=True)
class Session:
    """A logged-in user until ``expires_at`` (Unix seconds); ``changed_at``: the user record it was opened on;
    ``token_id``: the id of its signed session token (:mod:`clinfusion.review.session_tokens`), ``""`` without one."""

    username: str
    role: str
    expires_at: float
    changed_at: float = 0.0
    token_id: str = ""

    def valid(self, now: float | None = None) -> bool:
        """True while the session has not expired."""
        return (time.time() if now is None else now) < self.expires_at

    def can(self, permission: str) -> bool:
        """True when the role grants ``permission`` (``view``, ``review``, ``review_text``, ``audit``)."""
        return permission in ROLES.get(self.role, frozenset())


def cli_actor() -> str:
    """Who runs a command-line action, for the audit log (the operating-system user)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def check_password(password: str) -> bytes:
    """The password as UTF-8 bytes.

    Raises:
        ReviewError: longer than bcrypt's 72 bytes (a password is never silently truncated).
    """
    raw = password.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise ReviewError(f"password is {len(raw)} bytes long; bcrypt accepts at most {MAX_PASSWORD_BYTES} bytes "
                          "(UTF-8): choose a shorter one", field="password")
    return raw


def add_user(ws_root: str | Path, username: str, password: str, role: str, *, rounds: int = DEFAULT_ROUNDS,
             db: str | None = None, actor: str | None = None) -> None:
    """Create a user (or replace the password and role of an existing one, ending their sessions); audited.

    Raises:
        ReviewError: bad user name, password shorter than 8 characters or longer than 72 bytes, or unknown role.
    """
    import bcrypt

    if role not in ROLES:
        raise ReviewError(f"unknown role {role!r}; expected one of {sorted(ROLES)}", field="role")
    if not USERNAME_RE.match(username):
        raise ReviewError("user name must be 2-64 letters, digits, '_', '.' or '-'", field="username")
    if len(password) < MIN_PASSWORD:
        raise ReviewError(f"password must have at least {MIN_PASSWORD} characters", field="password")
    digest = bcrypt.hashpw(check_password(password), bcrypt.gensalt(rounds=rounds))
    now = time.time()
    with engine(ws_root, db).begin() as con:
        old = con.execute(sa.select(USERS.c.role).where(USERS.c.username == username)).first()
        if old is None:
            con.execute(sa.insert(USERS).values(username=username, role=role, password_hash=digest, created_at=now,
                                                changed_at=now))
        else:
            con.execute(sa.update(USERS).where(USERS.c.username == username)
                        .values(role=role, password_hash=digest, changed_at=now))
    audit.record(ws_root, actor or cli_actor(), "cli", "user_add" if old is None else "user_change", db=db,
                 user=username, new_role=role, **({} if old is None else {"old_role": old[0]}))


def remove_user(ws_root: str | Path, username: str, *, db: str | None = None, actor: str | None = None) -> None:
    """Delete a user (their open sessions stop working at the next page run); audited.

    Raises:
        ReviewError: no such user.
    """
    with engine(ws_root, db).begin() as con:
        if con.execute(sa.delete(USERS).where(USERS.c.username == username)).rowcount == 0:
            raise ReviewError(f"no user {username!r}", field="username")
    audit.record(ws_root, actor or cli_actor(), "cli", "user_remove", db=db, user=username)


def list_users(ws_root: str | Path, *, db: str | None = None) -> list[dict[str, str]]:
    """Users as ``{"username", "role", "created_at"}`` (ISO time), sorted by name; never hashes."""
    q = sa.select(USERS.c.username, USERS.c.role, USERS.c.created_at).order_by(USERS.c.username)
    with engine(ws_root, db).connect() as con:
        rows = con.execute(q).all()
    return [{"username": r.username, "role": r.role,
             "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.created_at))} for r in rows]


@cache
def _dummy_hash(rounds: int) -> bytes:
    import bcrypt

    return bcrypt.hashpw(b"no such user: equal-time answer", bcrypt.gensalt(rounds=rounds))


def authenticate(ws_root: str | Path, username: str, password: str, *, ttl_minutes: float = DEFAULT_TTL_MINUTES,
                 now: float | None = None, client: str = "", policy: logins.LoginPolicy | None = None,
                 db: str | None = None) -> Session:
    """Check a password and open a session; every outcome is audited.

    An unknown user costs one bcrypt check too (against a dummy hash of the default cost), so the
    answer time does not tell which users exist. Failures are counted per user name and per
    ``client`` (e.g. the remote address) for back-off and lockout; the audit log keeps only keyed
    hashes of the typed name and the client.

    Raises:
        LoginRefused: too many recent failures for this name or client (password not checked).
        ReviewError: unknown user, wrong password, or a password longer than 72 bytes (same message
            for the first two).
    """
    import bcrypt

    policy = policy or logins.LoginPolicy.from_env()
    now = time.time() if now is None else now
    name_hash = audit.keyed_hash(ws_root, f"user:{username}", db=db)
    subjects = [name_hash] + ([audit.keyed_hash(ws_root, f"client:{client}", db=db)] if client else [])
    seen = logins.failures(ws_root, subjects, db=db)
    wait = max(logins.retry_after(seen[s], policy, now) for s in subjects)
    if wait > 0:
        audit.record(ws_root, "", "", "login_locked", db=db, name_hash=name_hash, client_hash=subjects[-1] if client else "",
                     retry_after_s=round(wait, 1))
        raise LoginRefused(wait)
    row = None
    if USERNAME_RE.match(username):  # anything else cannot be a user (and never reaches the database)
        with engine(ws_root, db).connect() as con:
            row = con.execute(sa.select(USERS).where(USERS.c.username == username)).first()
    try:
        raw = check_password(password)
        digest = bytes(row.password_hash) if row is not None else _dummy_hash(DEFAULT_ROUNDS)
        ok = bcrypt.checkpw(raw, digest) and row is not None
    except ReviewError as err:
        ok, too_long = False, err
    else:
        too_long = None
    if not ok:
        _failed(ws_root, subjects, seen, now, policy, db=db, too_long=too_long is not None)
        raise too_long or ReviewError(FAILED, field="password")
    logins.clear(ws_root, subjects, db=db)
    audit.record(ws_root, username, row.role, "login", db=db)
    return Session(username=username, role=row.role, expires_at=now + ttl_minutes * 60,
                   changed_at=float(row.changed_at))


def _failed(ws_root: str | Path, subjects: list[str], seen: dict[str, list[float]], now: float,
            policy: logins.LoginPolicy, *, db: str | None, too_long: bool) -> None:
    logins.add_failure(ws_root, subjects, now, policy, db=db)
    n = max(len(seen[s]) for s in subjects) + 1
    detail = {"name_hash": subjects[0], "client_hash": subjects[1] if len(subjects) > 1 else "", "failures": n}
    audit.record(ws_root, "", "", "login_failed", db=db, password_too_long=too_long, **detail)
    if policy.wait_s(n) >= policy.lockout_s:
        audit.record(ws_root, "", "", "lockout", db=db, locked_s=policy.lockout_s, **detail)


def validate_session(ws_root: str | Path, session: Session, *, now: float | None = None,
                     db: str | None = None) -> str:
    """Why ``session`` may no longer be used (``""``: it may).

    Returns:
        ``"expired"``, ``"revoked"`` (its session token was revoked by a logout, e.g. in another tab),
        ``"removed"`` (the user no longer exists), ``"changed"`` (role or password changed since login) or ``""``.
    """
    from clinfusion.review.store import REVOKED_SESSIONS

    if not session.valid(now):
        return "expired"
    q = sa.select(USERS.c.role, USERS.c.changed_at).where(USERS.c.username == session.username)
    with engine(ws_root, db).connect() as con:
        row = con.execute(q).first()
        revoked = bool(session.token_id) and con.execute(
            sa.select(REVOKED_SESSIONS.c.token_id).where(REVOKED_SESSIONS.c.token_id == session.token_id)).first() is not None
    if revoked:
        return "revoked"
    if row is None:
        return "removed"
    if row.role != session.role or float(row.changed_at) != session.changed_at:
        return "changed"
    return ""
