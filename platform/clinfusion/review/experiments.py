"""Read-only listing of the workspace's MLflow runs and registered model versions.

``clinfusion.tracking`` logs runs into the SQLite store ``WS/mlflow.db`` (its ``tracking_uri``)
but offers no listing yet. Importing mlflow costs seconds on every Streamlit rerun and only
``tracking`` may import it, so this module reads that store's tables directly, read-only
(``mode=ro``): experiments, runs, latest metrics, params, registered versions and aliases.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd


def store_path(ws_root: str | Path) -> Path | None:
    """The workspace's MLflow SQLite file (from ``clinfusion.tracking``), or None when no run was logged."""
    from clinfusion.tracking.run import tracking_uri

    path = Path(tracking_uri(Path(ws_root)).removeprefix("sqlite:///"))
    return path if path.exists() else None


def _query(path: Path, sql: str) -> pd.DataFrame:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        return pd.read_sql_query(sql, con)


def list_runs(ws_root: str | Path) -> pd.DataFrame:
    """One row per finished run (newest first): experiment, run id, start time, status, metrics and
    params as columns (``metric:<key>``, ``param:<key>``), artifact location."""
    path = store_path(ws_root)
    if path is None:
        return pd.DataFrame()
    runs = _query(path, "SELECT r.run_uuid AS run_id, e.name AS experiment, r.start_time, r.status, "
                        "r.artifact_uri FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id "
                        "WHERE r.lifecycle_stage = 'active' ORDER BY r.start_time DESC")
    if runs.empty:
        return runs
    metrics = _query(path, "SELECT run_uuid AS run_id, key, value FROM latest_metrics")
    params = _query(path, "SELECT run_uuid AS run_id, key, value FROM params")
    wide = [runs.set_index("run_id")]
    for prefix, frame in (("metric:", metrics), ("param:", params)):
        if len(frame):
            wide.append(frame.pivot_table(index="run_id", columns="key", values="value", aggfunc="last").add_prefix(prefix))
    out = pd.concat(wide, axis=1).loc[runs["run_id"]].reset_index()
    out["start_time"] = pd.to_datetime(out["start_time"], unit="ms", utc=True)
    return out


def list_versions(ws_root: str | Path) -> pd.DataFrame:
    """Registered model versions (newest first) with their aliases (``champion`` marks the served one)."""
    path = store_path(ws_root)
    if path is None:
        return pd.DataFrame()
    versions = _query(path, "SELECT name, version, run_id, source, creation_time, current_stage "
                            "FROM model_versions ORDER BY creation_time DESC")
    aliases = _query(path, "SELECT name, version, alias FROM registered_model_aliases")
    agg = aliases.groupby(["name", "version"])["alias"].agg(", ".join).reset_index() if len(aliases) else \
        pd.DataFrame(columns=["name", "version", "alias"])
    out = versions.merge(agg, on=["name", "version"], how="left").rename(columns={"alias": "aliases"})
    out["aliases"] = out["aliases"].fillna("")
    out["creation_time"] = pd.to_datetime(out["creation_time"], unit="ms", utc=True)
    return out


def artifact_file(artifact_uri: str, name: str) -> Path:
    """Local path of a run artifact (``file://`` artifact stores only)."""
    parsed = urlparse(artifact_uri)
    return Path(unquote(parsed.path if parsed.scheme == "file" else artifact_uri)) / name
