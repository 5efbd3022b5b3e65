"""The review store: users, reviews and the audit log behind one interface (SQLAlchemy Core).

Where the store lives, first match wins:

1. an explicit URL (``clinfusion app --review-db URI``, ``db=`` of every function in this package);
2. the environment variable ``CLINFUSION_REVIEW_DB`` (e.g. ``postgresql://user@host:5432/reviews``);
3. the embedded default, one SQLite file in the workspace: ``WS/review/review.sqlite``.

SQLite suits one app process; PostgreSQL lets several app replicas share users, reviews, login
failures (so a lockout holds across replicas) and the audit log. The tables are created on first
use; columns added since older versions of the store are added in place (:func:`_migrate`).
"""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from clinfusion.errors import ClinFusionError

DB_NAME = "review.sqlite"
DB_ENV = "CLINFUSION_REVIEW_DB"


class ReviewError(ClinFusionError):
    """A user, session, audit or review operation that cannot be done (bad role, wrong password...)."""


METADATA = sa.MetaData()
USERS = sa.Table(
    "users", METADATA,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("password_hash", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # Unix seconds of the last change (password or role): a session opened before it is void.
    sa.Column("changed_at", sa.Float, nullable=False, server_default="0"),
)
REVIEWS = sa.Table(
    "reviews", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", sa.Float, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("patient_id", sa.String(64), nullable=False),
    sa.Column("model_name", sa.String(256), nullable=False, server_default=""),
    sa.Column("model_version", sa.String(256), nullable=False),
    sa.Column("target", sa.String(32), nullable=False),
    sa.Column("predicted", sa.Text, nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("corrected", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sqlite_autoincrement=True,
)
AUDIT = sa.Table(
    "audit", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", sa.Float, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("patient_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    sqlite_autoincrement=True,
)
# One row per failed login per subject (keyed hash of "user:<name>" or "client:<address>"):
# the back-off and lockout state, shared by every replica that uses the same store.
LOGIN_FAILURES = sa.Table(
    "login_failures", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subject", sa.String(64), nullable=False, index=True),
    sa.Column("time", sa.Float, nullable=False),
)
# Signed session tokens ended before their expiry (logout): a token whose id is here is refused
# by every replica (see clinfusion.review.session_tokens); rows past ``expires_at`` can be purged.
REVOKED_SESSIONS = sa.Table(
    "revoked_sessions", METADATA,
    sa.Column("token_id", sa.String(64), primary_key=True),
    sa.Column("revoked_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)
# Store-wide settings; ``audit_key`` is the random key of the keyed hashes in the audit log.
META = sa.Table(
    "meta", METADATA,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

_ENGINES: dict[str, sa.Engine] = {}
_INFO: weakref.WeakKeyDictionary[sa.Engine, dict[str, Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def info(eng: sa.Engine) -> dict[str, Any]:
    """Per-engine cache (schema ready, audit key) that lives as long as the engine."""
    with _LOCK:
        return _INFO.setdefault(eng, {})


def db_path(ws_root: str | Path) -> Path:
    """``WS/review/review.sqlite`` (the embedded default)."""
    return Path(ws_root) / "review" / DB_NAME


def db_url(ws_root: str | Path, db: str | None = None) -> str:
    """The store's SQLAlchemy URL: ``db``, else ``$CLINFUSION_REVIEW_DB``, else the workspace's SQLite file.

    ``postgresql://`` URLs use the psycopg (3) driver.
    """
    url = db or os.environ.get(DB_ENV, "").strip()
    if not url:
        return f"sqlite:///{db_path(ws_root)}"
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def describe(ws_root: str | Path, db: str | None = None) -> str:
    """The store location for messages, without any password."""
    return sa.make_url(db_url(ws_root, db)).render_as_string(hide_password=True)


def exists(ws_root: str | Path, db: str | None = None) -> bool:
    """True when the store has been created (SQLite: the file exists; a server: its tables exist).

    Raises:
        ReviewError: the server cannot be reached.
    """
    url = db_url(ws_root, db)
    if url.startswith("sqlite"):
        return Path(sa.make_url(url).database or "").exists()
    try:
        with _engine(url).connect() as con:
            return sa.inspect(con).has_table("reviews")
    except sa.exc.OperationalError as err:
        raise ReviewError(f"cannot reach the review store: {err.orig}", file=describe(ws_root, db)) from None


def engine(ws_root: str | Path, db: str | None = None) -> sa.Engine:
    """The store's engine, its tables created or migrated (cached per URL).

    Raises:
        ReviewError: ``ws_root`` is not a workspace, or the store cannot be opened.
    """
    root = Path(ws_root)
    if not (root / "workspace.json").exists():
        raise ReviewError("not a ClinFusion workspace (workspace.json missing)", file=root)
    url = db_url(root, db)
    if url.startswith("sqlite"):
        path = Path(sa.make_url(url).database or "")
        if not path.exists():  # first use, or the file was removed: (re)create it and its tables
            path.parent.mkdir(parents=True, exist_ok=True)
            _forget(url)
    eng = _engine(url)
    if not info(eng).get("ready"):
        try:
            with _LOCK:
                _create(eng)
        except sa.exc.OperationalError as err:
            raise ReviewError(f"cannot open the review store: {err.orig}", file=describe(root, db)) from None
        info(eng)["ready"] = True
    return eng


def _engine(url: str) -> sa.Engine:
    with _LOCK:
        eng = _ENGINES.get(url)
        if eng is None:
            try:
                eng = _ENGINES[url] = _make_engine(url)
            except (ImportError, sa.exc.ArgumentError) as err:
                raise ReviewError(f"unsupported review store URL ({err}); expected sqlite:///PATH or "
                                  "postgresql://USER@HOST:PORT/DB", field=DB_ENV) from None
    return eng


def _make_engine(url: str) -> sa.Engine:
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    eng = sa.create_engine(url, connect_args={"timeout": 10.0})

    @sa.event.listens_for(eng, "connect")
    def _wal(dbapi_con: Any, _record: Any) -> None:  # readers never wait for the app's writes
        dbapi_con.execute("PRAGMA journal_mode=WAL")

    return eng


def _forget(url: str) -> None:
    with _LOCK:
        eng = _ENGINES.pop(url, None)
    if eng is not None:
        eng.dispose()


def _create(eng: sa.Engine) -> None:
    """Create missing tables, then missing columns. Two replicas starting at once may race on the
    DDL: the loser sees the winner's tables on its second try."""
    try:
        METADATA.create_all(eng)
    except (sa.exc.ProgrammingError, sa.exc.IntegrityError):
        METADATA.create_all(eng)
    _migrate(eng)


def _migrate(eng: sa.Engine) -> None:
    """Add columns this version declares that an older store lacks (``ALTER TABLE ... ADD COLUMN``)."""
    with eng.begin() as con:
        insp = sa.inspect(con)
        for table in METADATA.sorted_tables:
            have = {c["name"] for c in insp.get_columns(table.name)}
            for col in table.columns:
                if col.name in have:
                    continue
                kind = col.type.compile(dialect=eng.dialect)
                default = col.server_default.arg if col.server_default is not None else ""
                con.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {col.name} {kind} NOT NULL DEFAULT '{default}'"))


def dispose_all() -> None:
    """Close every cached connection pool (tests that stop a database server call this first)."""
    with _LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for eng in engines:
        eng.dispose()
