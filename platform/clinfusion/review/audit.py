"""The audit log: one row per login, page view, review, export and user change (who, role, what, which patient, when).

Nothing typed by an anonymous visitor is stored as such: a failed login keeps only a keyed hash
(:func:`keyed_hash`, HMAC-SHA256 with a random key kept in ``WS/.secrets/audit.key``, not in the store) of the attempted user name,
since people type passwords into the name field.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from clinfusion.review.store import AUDIT, engine
from clinfusion.workspace.keyfile import secret_bytes

ACTIONS = (
    "login", "login_failed", "login_locked", "lockout", "logout", "session_revoked",
    "view_cohort", "view_patient", "view_experiments", "view_audit",
    "review", "export_reviews", "export", "user_add", "user_change", "user_remove",
)
AUDIT_KEY_PATH = Path(".secrets") / "audit.key"


def record(ws_root: str | Path, username: str, role: str, action: str, patient_id: str = "", *,
           db: str | None = None, **detail: Any) -> None:
    """Append one audit row.

    Args:
        ws_root: the workspace.
        username, role: who (``role`` is ``cli`` for command-line actions).
        action: one of :data:`ACTIONS`.
        patient_id: the pseudonym concerned (empty for cohort-wide actions).
        db: the store URL (default: see :func:`clinfusion.review.store.db_url`).
        **detail: JSON-serialisable context (e.g. the review id).

    Raises:
        ValueError: unknown action.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {list(ACTIONS)}")
    with engine(ws_root, db).begin() as con:
        con.execute(sa.insert(AUDIT).values(time=time.time(), username=username, role=role, action=action,
                                            patient_id=patient_id,
                                            detail=json.dumps(detail, sort_keys=True, default=str)))


def read_log(ws_root: str | Path, *, patient_id: str | None = None, limit: int = 1000,
             db: str | None = None) -> pd.DataFrame:
    """The newest ``limit`` audit rows (newest first), optionally for one patient; ``time`` as UTC."""
    q = sa.select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit)
    if patient_id is not None:
        q = q.where(AUDIT.c.patient_id == patient_id)
    with engine(ws_root, db).connect() as con:
        df = pd.DataFrame(con.execute(q).mappings().all(), columns=[c.name for c in AUDIT.columns])
    df["time"] = pd.to_datetime(df["time"].astype(float), unit="s", utc=True)
    return df


def keyed_hash(ws_root: str | Path, text: str, *, db: str | None = None) -> str:
    """HMAC-SHA256 of ``text`` under the store's audit key, as 32 hex characters.

    The same text always gives the same hash in one store (so repeated attempts on one name can be
    counted), but the text cannot be read back, nor guessed without the key.
    """
    return hmac.new(_key(ws_root, db), text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def _key(ws_root: str | Path, db: str | None) -> bytes:
    """The audit key: ``WS/.secrets/audit.key`` (0600), made once; never in the store it protects.

    Kept beside the workspace, not in the review database, so a copy of the database (a dump, a
    replica's backup) does not let anyone recompute the hashes and guess what was typed into the
    user-name field. App replicas share it through the workspace they all read. ``db`` is unused
    (kept for a uniform call signature).
    """
    del db
    return secret_bytes(Path(ws_root) / AUDIT_KEY_PATH)
