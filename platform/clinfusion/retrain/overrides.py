"""Clinician reviews for retraining: ``diagnosis`` overrides as corrected labels, with provenance;
``risk_group`` reviews as disagreements with the champion.

Reviews are read only through :func:`clinfusion.review.reviews.list_reviews`. What leaves the
workspace (the MLflow run: tags and ``label_overrides.csv``) names the reviewer by a keyed
pseudonym (:func:`reviewer_pseudonym`: HMAC of the user name under the workspace's
pseudonymisation key, purpose ``reviewer``) and role, never by user name: an admin holding the key
can recompute a user's pseudonym, an MLflow reader cannot reverse it. The free-text reason is
scrubbed by the report de-identification before it is recorded.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

PROVENANCE_COLUMNS = ("review_id", "patient_id", "username", "role", "time", "model_version", "predicted",
                      "corrected", "reason")


def label_overrides(ws_root: str | Path, target: str = "diagnosis") -> pd.DataFrame:
    """The latest ``override`` review of ``target`` per patient, with who, when and why.

    Returns:
        One row per patient (:data:`PROVENANCE_COLUMNS`); empty without a review store or overrides.
    """
    from clinfusion.review.reviews import list_reviews
    from clinfusion.review.store import exists

    if not exists(ws_root):  # the workspace's SQLite file, or $CLINFUSION_REVIEW_DB
        return pd.DataFrame(columns=list(PROVENANCE_COLUMNS))
    df = list_reviews(ws_root)
    df = df[(df["decision"] == "override") & (df["target"] == target)]
    latest = df.sort_values("id").groupby("patient_id", as_index=False).tail(1)
    out = latest.rename(columns={"id": "review_id"})[list(PROVENANCE_COLUMNS)].reset_index(drop=True)
    out["time"] = out["time"].astype(str)
    return out


RUN_COLUMNS = ("review_id", "patient_id", "reviewer", "role", "time", "model_version", "predicted", "corrected",
               "reason")
"""Columns of ``label_overrides.csv`` in the training run (no user names)."""


def reviewer_pseudonym(username: str, key) -> str:
    """``U`` + 12 hex digits: keyed hash of a user name (``key``: a :class:`~clinfusion.privacy.keys.PseudonymKey`)."""
    from clinfusion.privacy import Pseudonymizer

    return "U" + Pseudonymizer(key).token("reviewer", str(username), 12)


def for_run(overrides: pd.DataFrame, key) -> pd.DataFrame:
    """The overrides as recorded in a training run: user names replaced by :func:`reviewer_pseudonym`.

    Returns:
        :data:`RUN_COLUMNS`.
    """
    from clinfusion.modalities.reports.deid import scrub_text
    from clinfusion.privacy import Pseudonymizer
    from clinfusion.workspace.csvsafe import csv_safe

    out = overrides.copy()
    out["reviewer"] = [reviewer_pseudonym(u, key) for u in out["username"]]
    # The reason is a clinician's free text: it leaves the workspace only after the report scrubber
    # (names, ids, dates shifted by a keyed per-patient offset), and CSV-safe.
    pz = Pseudonymizer(key)
    out["reason"] = [scrub_text(str(r), pz.date_shift_days(str(p))).text for r, p in zip(out["reason"], out["patient_id"],
                                                                                        strict=True)]
    return csv_safe(out[list(RUN_COLUMNS)].reset_index(drop=True))


def risk_group_reviews(ws_root: str | Path, target: str = "risk_group") -> pd.DataFrame:
    """The latest ``accept`` or ``override`` of ``target`` per (patient, model version).

    Returns:
        ``patient_id, model_name, model_version, predicted, decision, corrected`` (empty without reviews).
    """
    from clinfusion.review.reviews import list_reviews
    from clinfusion.review.store import exists

    cols = ["patient_id", "model_name", "model_version", "predicted", "decision", "corrected"]
    if not exists(ws_root):
        return pd.DataFrame(columns=cols)
    df = list_reviews(ws_root)
    if "model_name" not in df:
        df["model_name"] = ""
    df = df[df["decision"].isin(["accept", "override"]) & (df["target"] == target)]
    latest = df.sort_values("id").groupby(["patient_id", "model_version"], as_index=False).tail(1)
    return latest[cols].reset_index(drop=True)


def as_mapping(overrides: pd.DataFrame) -> dict[str, str]:
    """``{pseudonym: corrected label}``."""
    return dict(zip(overrides["patient_id"], overrides["corrected"], strict=True))
