"""Clinicians' decisions on predictions: one schema shared by the app, the store and retraining.

A review is a ``decision`` on one ``target`` (one of the model's tasks) of one patient's prediction
by one model (``model_name``, ``model_version``):

- ``accept``: the prediction stands;
- ``override``: ``corrected`` (one of the target's choices) replaces the prediction; a ``reason`` is required;
- ``comment``: free text, no judgement on the prediction (target optional).

Targets (:data:`TARGETS`): ``diagnosis`` (choices: the model's class names) and ``risk_group``
(:data:`RISK_GROUPS`). Retraining (``clinfusion.retrain.overrides``) reads the latest ``override``
of ``diagnosis`` per patient as that patient's training label; ``risk_group`` overrides are
disagreements, not labels.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from clinfusion.review.store import REVIEWS, ReviewError, engine
from clinfusion.workspace.csvsafe import csv_safe

DECISIONS = ("accept", "override", "comment")
TARGETS = ("diagnosis", "risk_group")
RISK_GROUPS = ("low", "intermediate", "high")
COLUMNS = ("id", "time", "username", "role", "patient_id", "model_name", "model_version", "target", "predicted",
           "decision", "corrected", "reason", "comment")
# What a role without the ``review_text`` permission (researchers) sees of a review: no names, no free text.
REDACTED_COLUMNS = ("id", "time", "patient_id", "model_name", "model_version", "target", "predicted", "decision",
                    "corrected")
LEGACY_TARGETS = {"risk group": "risk_group"}  # stored by app versions before the shared schema


def target_choices(class_names: Sequence[str] = ()) -> dict[str, tuple[str, ...]]:
    """``{target: allowed corrected values}`` for a model: ``diagnosis`` only when it has class names."""
    out: dict[str, tuple[str, ...]] = {}
    if class_names:
        out["diagnosis"] = tuple(str(c) for c in class_names)
    out["risk_group"] = RISK_GROUPS
    return out


@dataclass(frozen=True, kw_only=True)
class Review:
    """One decision on one prediction of one patient.

    Attributes:
        patient_id: pseudonym.
        model_name, model_version: the registered model and version whose prediction was reviewed (``""`` when none).
        target: one of :data:`TARGETS` (may be ``""`` for a comment).
        predicted: the predicted value as shown (a class name, or a risk group).
        decision: one of :data:`DECISIONS`.
        corrected: the clinician's value (override only): one of the target's choices.
        reason: why the prediction was overridden (override only).
        comment: free text.
    """

    patient_id: str
    model_name: str = ""
    model_version: str = ""
    target: str = ""
    predicted: str = ""
    decision: str
    corrected: str = ""
    reason: str = ""
    comment: str = ""

    def missing(self) -> list[str]:
        """The fields this decision needs that are empty (e.g. ``["reason"]`` for an override without one)."""
        need = {"accept": ("target",), "override": ("target", "corrected", "reason"), "comment": ("comment",)}
        return [f for f in need.get(self.decision, ()) if not str(getattr(self, f)).strip()]

    def validate(self, choices: Mapping[str, Sequence[str]] | None = None) -> None:
        """Check the review against the schema (and, when given, the model's ``choices`` per target).

        Raises:
            ReviewError: unknown decision or target, a needed field missing (all of them are named),
                or a corrected value that is not one of the target's choices.
        """
        if self.decision not in DECISIONS:
            raise ReviewError(f"unknown decision {self.decision!r}; expected one of {list(DECISIONS)}", field="decision")
        if not self.patient_id:
            raise ReviewError("a review needs a patient", field="patient_id")
        if self.target and self.target not in TARGETS:
            raise ReviewError(f"unknown target {self.target!r}; expected one of {list(TARGETS)}", field="target")
        missing = self.missing()
        if missing:
            raise ReviewError(f"{'an' if self.decision != 'comment' else 'a'} {self.decision} needs: {', '.join(missing)}",
                              field=missing[0])
        if self.decision != "override":
            return
        allowed = (choices or {}).get(self.target, RISK_GROUPS if self.target == "risk_group" else None)
        if choices is not None and self.target not in choices:
            raise ReviewError(f"this model has no {self.target!r} task; expected one of {list(choices)}", field="target")
        if allowed is not None and self.corrected not in allowed:
            raise ReviewError(f"corrected {self.target} {self.corrected!r} is not one of {list(allowed)}", field="corrected")


def submit(ws_root: str | Path, review: Review, username: str, role: str, *,
           choices: Mapping[str, Sequence[str]] | None = None, db: str | None = None) -> int:
    """Validate and store a review; returns its id.

    Raises:
        ReviewError: invalid review, or a role without the ``review`` permission.
    """
    from clinfusion.review.users import ROLES

    if "review" not in ROLES.get(role, frozenset()):
        raise ReviewError(f"role {role!r} may not submit reviews", field="role")
    review.validate(choices)
    row = {k: getattr(review, k) for k in COLUMNS if hasattr(review, k)}
    with engine(ws_root, db).begin() as con:
        res = con.execute(sa.insert(REVIEWS).values(time=time.time(), username=username, role=role, **row))
        return int(res.inserted_primary_key[0])


def list_reviews(ws_root: str | Path, patient_id: str | None = None, *, db: str | None = None) -> pd.DataFrame:
    """Stored reviews (oldest first, :data:`COLUMNS`), optionally of one patient; ``time`` as UTC timestamps."""
    q = sa.select(*(REVIEWS.c[c] for c in COLUMNS)).order_by(REVIEWS.c.id)
    if patient_id is not None:
        q = q.where(REVIEWS.c.patient_id == patient_id)
    with engine(ws_root, db).connect() as con:
        df = pd.DataFrame(con.execute(q).mappings().all(), columns=list(COLUMNS))
    df["id"] = df["id"].astype("int64")
    df["time"] = pd.to_datetime(df["time"].astype(float), unit="s", utc=True)
    df["target"] = df["target"].replace(LEGACY_TARGETS)
    return df


def for_role(table: pd.DataFrame, role: str) -> pd.DataFrame:
    """``table`` as ``role`` may see it: without user names and free text unless it grants ``review_text``."""
    from clinfusion.review.users import ROLES

    if "review_text" in ROLES.get(role, frozenset()):
        return table
    return table[[c for c in REDACTED_COLUMNS if c in table.columns]]


def export_reviews(ws_root: str | Path, out: str | Path, *, db: str | None = None, actor: str | None = None,
                   role: str = "cli") -> int:
    """Write every review to ``out`` (``.csv`` or ``.parquet``) for retraining; returns the row count; audited.

    Raises:
        ReviewError: another file extension.
    """
    from clinfusion.review import audit
    from clinfusion.review.users import cli_actor

    out = Path(out)
    if out.suffix not in (".csv", ".parquet"):
        raise ReviewError("expected an output file ending in .csv or .parquet", file=out, field="out")
    df = list_reviews(ws_root, db=db)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        csv_safe(df).to_csv(out, index=False)
    else:
        df.to_parquet(out, index=False)
    audit.record(ws_root, actor or cli_actor(), role, "export_reviews", db=db, rows=len(df), file=out.name)
    return len(df)

