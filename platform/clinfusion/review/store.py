"""The review database: one SQLite file in the workspace shared by users, audit log and reviews."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from clinfusion.errors import ClinFusionError

DB_NAME = "review.sqlite"


class ReviewError(ClinFusionError):
    """A user, session, audit or review operation that cannot be done (bad role, wrong password...)."""


def db_path(ws_root: str | Path) -> Path:
    """``WS/review/review.sqlite``."""
    return Path(ws_root) / "review" / DB_NAME


def connect(ws_root: str | Path, schema: str) -> sqlite3.Connection:
    """Open (creating if needed) the review database and apply ``schema`` (idempotent DDL).

    Raises:
        ReviewError: the workspace directory does not exist.
    """
    root = Path(ws_root)
    if not (root / "workspace.json").exists():
        raise ReviewError("not a ClinFusion workspace (workspace.json missing)", file=root)
    path = db_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=10.0)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(schema)
    return con
