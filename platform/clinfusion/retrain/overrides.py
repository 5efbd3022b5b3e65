"""Clinician overrides from the review store as corrected labels, with their provenance."""

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


def as_mapping(overrides: pd.DataFrame) -> dict[str, str]:
    """``{pseudonym: corrected label}``."""
    return dict(zip(overrides["patient_id"], overrides["corrected"], strict=True))
