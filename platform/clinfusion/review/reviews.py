"""The review store: clinicians' decisions on predictions, with user and time; exportable for retraining.

Decisions: ``accept`` (the prediction stands), ``override`` (a corrected value and a reason are
required) and ``comment`` (free text, no judgement on the prediction).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from clinfusion.review.store import ReviewError, connect

DECISIONS = ("accept", "override", "comment")
COLUMNS = ("id", "time", "username", "role", "patient_id", "model_version", "target", "predicted",
           "decision", "corrected", "reason", "comment")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL,
  patient_id TEXT NOT NULL, model_version TEXT NOT NULL, target TEXT NOT NULL, predicted TEXT NOT NULL,
  decision TEXT NOT NULL, corrected TEXT NOT NULL, reason TEXT NOT NULL, comment TEXT NOT NULL);
"""


@dataclass(frozen=True, kw_only=True)
class Review:
    """One decision on one prediction of one patient.

    Attributes:
        patient_id: pseudonym.
        model_version: registry version or alias that produced the prediction (``""`` when none).
        target: what was predicted (``risk group``, ``diagnosis``...).
        predicted: the predicted value as shown.
        decision: one of :data:`DECISIONS`.
        corrected: the clinician's value (override only).
        reason: why the prediction was overridden (override only).
        comment: free text.
    """

    patient_id: str
    model_version: str = ""
    target: str = ""
    predicted: str = ""
    decision: str
    corrected: str = ""
    reason: str = ""
    comment: str = ""

    def validate(self) -> None:
        """Raises:
        ReviewError: unknown decision; override without corrected value or reason; empty comment.
        """
        if self.decision not in DECISIONS:
            raise ReviewError(f"unknown decision {self.decision!r}; expected one of {list(DECISIONS)}", field="decision")
        if not self.patient_id:
            raise ReviewError("a review needs a patient", field="patient_id")
        if self.decision == "override" and not (self.corrected.strip() and self.reason.strip()):
            raise ReviewError("an override needs the corrected value and a reason", field="reason")
        if self.decision == "comment" and not self.comment.strip():
            raise ReviewError("a comment cannot be empty", field="comment")


def submit(ws_root: str | Path, review: Review, username: str, role: str) -> int:
    """Validate and store a review; returns its id.

    Raises:
        ReviewError: invalid review, or a role without the ``review`` permission.
    """
    from clinfusion.review.users import ROLES

    if "review" not in ROLES.get(role, frozenset()):
        raise ReviewError(f"role {role!r} may not submit reviews", field="role")
    review.validate()
    with connect(ws_root, _SCHEMA) as con:
        cur = con.execute(
            "INSERT INTO reviews (time, username, role, patient_id, model_version, target, predicted, decision, "
            "corrected, reason, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (time.time(), username, role, review.patient_id, review.model_version, review.target, review.predicted,
             review.decision, review.corrected, review.reason, review.comment))
        return int(cur.lastrowid)


def list_reviews(ws_root: str | Path, patient_id: str | None = None) -> pd.DataFrame:
    """Stored reviews (oldest first), optionally of one patient; ``time`` as UTC timestamps."""
    sql, args = "SELECT * FROM reviews", []
    if patient_id is not None:
        sql, args = sql + " WHERE patient_id = ?", [patient_id]
    with connect(ws_root, _SCHEMA) as con:
        df = pd.read_sql_query(sql + " ORDER BY id", con, params=args)
    df["time"] = pd.to_datetime(df["time"], unit="s", utc=True)
    return df[list(COLUMNS)]


def export_reviews(ws_root: str | Path, out: str | Path) -> int:
    """Write every review to ``out`` (``.csv`` or ``.parquet``) for retraining; returns the row count.

    Raises:
        ReviewError: another file extension.
    """
    out = Path(out)
    if out.suffix not in (".csv", ".parquet"):
        raise ReviewError("expected an output file ending in .csv or .parquet", file=out, field="out")
    df = list_reviews(ws_root)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        df.to_csv(out, index=False)
    else:
        df.to_parquet(out, index=False)
    return len(df)
