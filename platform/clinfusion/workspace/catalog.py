"""The catalog: one row per input item, in a Parquet file.

Columns (``CATALOG_COLUMNS``):

- ``item_id``: keyed hash of (modality, primary source path); stable across runs.
- ``patient_id``: pseudonym, or ``""`` for a cohort-level item (a table covering many patients).
- ``modality``; ``source``: primary file, relative to the cohort, with the patient directory
  replaced by the pseudonym; ``n_files``; ``files_json``: every member file (same masking).
- ``size_bytes``; ``sha256``: content hash of the item (combined over member files).
- ``status``: ``ingested`` or ``quarantined``; ``reason``: why quarantined (``""`` otherwise).
- ``ingested_at`` (UTC ISO time); ``code_version``: clinfusion and reader versions.
- ``artifact_dir``: relative to the workspace (``""`` when quarantined).
- ``meta_json``: de-identified metadata from the reader (JSON object; modality-specific).
- ``patients_json``: for cohort-level items, the pseudonyms of the patients they cover.
- ``rejected_json``: member files rejected on their own (``{source: reason}``) while the item ingested.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from clinfusion.workspace.workspace import Workspace

CATALOG_COLUMNS: tuple[str, ...] = (
    "item_id",
    "patient_id",
    "modality",
    "source",
    "n_files",
    "files_json",
    "size_bytes",
    "sha256",
    "status",
    "reason",
    "ingested_at",
    "code_version",
    "artifact_dir",
    "meta_json",
    "patients_json",
    "rejected_json",
)
STATUSES = ("ingested", "quarantined")


def empty_catalog() -> pd.DataFrame:
    """A catalog with no rows and the right columns."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("n_files", "size_bytes") else "object") for c in CATALOG_COLUMNS})


def catalog_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows -> catalog DataFrame in canonical column and row order (deterministic bytes)."""
    if not rows:
        return empty_catalog()
    df = pd.DataFrame(rows)[list(CATALOG_COLUMNS)]
    df["n_files"] = df["n_files"].astype("int64")
    df["size_bytes"] = df["size_bytes"].astype("int64")
    return df.sort_values(["modality", "patient_id", "source"], kind="stable").reset_index(drop=True)


def read_catalog(ws: Workspace) -> pd.DataFrame:
    """The workspace catalog (empty when nothing was ingested yet)."""
    if not ws.catalog_path.exists():
        return empty_catalog()
    return pd.read_parquet(ws.catalog_path)


def row_meta(row: pd.Series | dict[str, Any]) -> dict[str, Any]:
    """The parsed ``meta_json`` of a catalog row."""
    return json.loads(row["meta_json"] or "{}")


def row_patients(row: pd.Series | dict[str, Any]) -> list[str]:
    """Pseudonyms a row covers: its own patient, or the list of a cohort-level item."""
    if row["patient_id"]:
        return [row["patient_id"]]
    return list(json.loads(row["patients_json"] or "[]"))


def summarize(catalog: pd.DataFrame) -> pd.DataFrame:
    """Per modality: items, ingested, quarantined, files, patients, bytes.

    Returns:
        One row per modality (sorted), with integer counts.
    """
    cols = ["modality", "items", "ingested", "quarantined", "files", "patients", "size_mb"]
    if catalog.empty:
        return pd.DataFrame(columns=cols)
    out = []
    for modality, g in catalog.groupby("modality", sort=True):
        ok = g[g["status"] == "ingested"]
        patients = {p for _, r in ok.iterrows() for p in row_patients(r)}
        out.append(
            {
                "modality": modality,
                "items": len(g),
                "ingested": len(ok),
                "quarantined": int((g["status"] == "quarantined").sum()),
                "files": int(g["n_files"].sum()),
                "patients": len(patients),
                "size_mb": round(float(g["size_bytes"].sum()) / 1e6, 2),
            }
        )
    return pd.DataFrame(out, columns=cols)


def quarantine_table(catalog: pd.DataFrame) -> pd.DataFrame:
    """Every quarantined item and every member file rejected on its own, with reasons."""
    rows = []
    for _, r in catalog.iterrows():
        if r["status"] == "quarantined":
            rows.append({"modality": r["modality"], "patient_id": r["patient_id"], "source": r["source"], "reason": r["reason"]})
        for src, reason in json.loads(r["rejected_json"] or "{}").items():
            rows.append({"modality": r["modality"], "patient_id": r["patient_id"], "source": src, "reason": reason})
    return pd.DataFrame(rows, columns=["modality", "patient_id", "source", "reason"])
