"""The audit log: one row per patient view, review and login (who, role, what, which patient, when)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from clinfusion.review.store import connect

ACTIONS = ("login", "login_failed", "logout", "view_cohort", "view_patient", "review", "export_reviews")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL,
  action TEXT NOT NULL, patient_id TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '{}');
"""


def record(ws_root: str | Path, username: str, role: str, action: str, patient_id: str = "",
           **detail: Any) -> None:
    """Append one audit row.

    Args:
        ws_root: the workspace.
        username, role: who.
        action: one of :data:`ACTIONS`.
        patient_id: the pseudonym concerned (empty for cohort-wide actions).
        **detail: JSON-serialisable context (e.g. the review id).

    Raises:
        ValueError: unknown action.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {list(ACTIONS)}")
    with connect(ws_root, _SCHEMA) as con:
        con.execute("INSERT INTO audit (time, username, role, action, patient_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    (time.time(), username, role, action, patient_id, json.dumps(detail, sort_keys=True, default=str)))


def read_log(ws_root: str | Path, *, patient_id: str | None = None, limit: int = 1000) -> pd.DataFrame:
    """The newest ``limit`` audit rows (newest first), optionally for one patient; ``time`` as UTC."""
    sql, args = "SELECT * FROM audit", []
    if patient_id is not None:
        sql, args = sql + " WHERE patient_id = ?", [patient_id]
    with connect(ws_root, _SCHEMA) as con:
        df = pd.read_sql_query(sql + " ORDER BY id DESC LIMIT ?", con, params=[*args, limit])
    df["time"] = pd.to_datetime(df["time"], unit="s", utc=True)
    return df
