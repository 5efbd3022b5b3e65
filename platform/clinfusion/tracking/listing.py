"""Read-only listing of a workspace's MLflow runs and registered model versions.

Only search calls of :class:`mlflow.MlflowClient` are made (nothing is written); mlflow is
imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from clinfusion.tracking.run import tracking_uri


def _client(ws_root: str | Path, uri: str | None):
    """An MlflowClient on the store, or None when the workspace's default SQLite store does not exist
    (opening a missing SQLite store would create it)."""
    uri = tracking_uri(Path(ws_root), uri)
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        return None
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def list_runs(ws_root: str | Path, uri: str | None = None) -> pd.DataFrame:
    """One row per active run, newest first: ``run_id``, ``experiment``, ``start_time`` (UTC),
    ``status``, ``artifact_uri``, ``run_name`` and ``tag:<key>`` (``mlflow.*`` system tags left out) /
    ``metric:<key>`` / ``param:<key>`` columns; empty without runs."""
    client = _client(ws_root, uri)
    if client is None:
        return pd.DataFrame()
    names = {e.experiment_id: e.name for e in client.search_experiments()}
    if not names:
        return pd.DataFrame()
    rows = []
    for run in client.search_runs(list(names), order_by=["attributes.start_time DESC"], max_results=5000):
        row = {"run_id": run.info.run_id, "experiment": names[run.info.experiment_id],
               "start_time": pd.to_datetime(run.info.start_time, unit="ms", utc=True),
               "status": run.info.status, "artifact_uri": run.info.artifact_uri,
               "run_name": run.info.run_name or ""}
        row.update({f"tag:{k}": v for k, v in run.data.tags.items() if not k.startswith("mlflow.")})
        row.update({f"metric:{k}": v for k, v in run.data.metrics.items()})
        row.update({f"param:{k}": v for k, v in run.data.params.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def list_versions(ws_root: str | Path, uri: str | None = None) -> pd.DataFrame:
    """Registered model versions, newest first: ``name``, ``version``, ``run_id``, ``source``,
    ``creation_time`` (UTC), ``current_stage`` and ``aliases`` (comma-separated, e.g. ``champion``)."""
    cols = ["name", "version", "run_id", "source", "creation_time", "current_stage", "aliases"]
    client = _client(ws_root, uri)
    if client is None:
        return pd.DataFrame(columns=cols)
    # search_model_versions leaves ModelVersion.aliases empty on the SQLite store; the registered
    # models carry them as {alias: version}.
    aliases: dict[tuple[str, str], list[str]] = {}
    for rm in client.search_registered_models():
        for alias, version in (rm.aliases or {}).items():
            aliases.setdefault((rm.name, str(version)), []).append(alias)
    rows = [{"name": v.name, "version": int(v.version), "run_id": v.run_id, "source": v.source,
             "creation_time": pd.to_datetime(v.creation_timestamp, unit="ms", utc=True), "current_stage": v.current_stage,
             "aliases": ", ".join(sorted(aliases.get((v.name, str(v.version)), [])))}
            for v in client.search_model_versions()]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("creation_time", ascending=False, ignore_index=True) if len(out) else out
