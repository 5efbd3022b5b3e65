"""The model registry of a workspace: champion/challenger aliases, promotions, rollbacks, gate runs.

Every promotion and rollback is recorded twice: appended to ``WS/registry/events.jsonl``
(append-only: who, when, why, from which version to which) and as tags on the MLflow model
versions involved (``promoted_by`` / ``promoted_at`` / ``promoted_reason``, ``rolled_back_*``, ``restored_*``).
mlflow is imported inside the functions.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from clinfusion.errors import ClinFusionError
from clinfusion.tracking.run import tracking_uri, use_tracking_uri

CHAMPION, CHALLENGER = "champion", "challenger"
EVENTS_FILE = Path("registry") / "events.jsonl"


class RegistryError(ClinFusionError):
    """A registry operation that cannot be done (unknown model or version, nothing to roll back to)."""


def client(ws_root: str | Path, uri: str | None = None):
    """An :class:`mlflow.MlflowClient` on the workspace store (tracking and registry)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient

    uri = tracking_uri(Path(ws_root), uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def default_model_name(ws_root: str | Path) -> str:
    """``clinfusion-fusion-<cohort>``: the name ``clinfusion train`` registers under."""
    manifest = json.loads((Path(ws_root) / "workspace.json").read_text())
    return f"clinfusion-fusion-{manifest.get('cohort_name', 'cohort')}"


def aliases(ws_root: str | Path, name: str, uri: str | None = None) -> dict[str, str]:
    """``{alias: version}`` of a registered model (empty when it is not registered)."""
    from mlflow.exceptions import MlflowException

    try:
        return {k: str(v) for k, v in (client(ws_root, uri).get_registered_model(name).aliases or {}).items()}
    except MlflowException:
        return {}


def version_run_id(ws_root: str | Path, name: str, version: str, uri: str | None = None) -> str:
    """The MLflow run that logged a registered version.

    Raises:
        RegistryError: unknown model or version.
    """
    from mlflow.exceptions import MlflowException

    try:
        return client(ws_root, uri).get_model_version(name, str(version)).run_id
    except MlflowException as err:
        raise RegistryError(f"no version {version} of model {name!r}", field="version") from err


def run_table(ws_root: str | Path, run_id: str, artifact: str, uri: str | None = None) -> pd.DataFrame:
    """A CSV artifact of a run (e.g. ``contributions.csv``: out-of-fold risks) as a DataFrame.

    Raises:
        RegistryError: the run has no such artifact.
    """
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact, dst_path=tmp,
                                                       tracking_uri=tracking_uri(Path(ws_root), uri))
        except Exception as err:  # mlflow raises several types for a missing artifact
            raise RegistryError(f"run {run_id} has no artifact {artifact!r}: {err}", field="run") from err
        return pd.read_csv(path)


def who(user: str | None = None) -> str:
    """``user`` or the OS user."""
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers): fall back to the environment
        return os.environ.get("USER", "unknown")


def events(ws_root: str | Path, name: str | None = None) -> list[dict[str, Any]]:
    """Recorded registry events, oldest first (optionally of one model)."""
    path = Path(ws_root) / EVENTS_FILE
    if not path.exists():
        return []
    out = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in out if name is None or e["model"] == name]


def record_event(ws_root: str | Path, event: dict[str, Any]) -> dict[str, Any]:
    """Append one event to ``WS/registry/events.jsonl`` (never rewritten) and return it."""
    path = Path(ws_root) / EVENTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **event}
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, sort_keys=True, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return row


def _tag(c, name: str, version: str, prefix: str, row: dict[str, Any]) -> None:
    for key, value in (("by", row["user"]), ("at", row["time"]), ("reason", row["reason"])):
        c.set_model_version_tag(name, version, f"{prefix}_{key}", str(value)[:5000])


def promote(ws_root: str | Path, name: str, version: str | None = None, *, reason: str, user: str | None = None,
            uri: str | None = None, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Make ``version`` (default: the current challenger) the champion.

    The challenger alias is removed when it pointed at the promoted version; the old champion
    keeps no alias (it stays registered and can be restored with :func:`rollback`).

    Raises:
        RegistryError: no reason, no such version, no challenger, or the version is already champion.
    """
    if not reason.strip():
        raise RegistryError("a promotion needs a reason", field="reason")
    c, current = client(ws_root, uri), aliases(ws_root, name, uri)
    version = str(version or current.get(CHALLENGER, ""))
    if not version:
        raise RegistryError(f"model {name!r} has no challenger to promote; pass --version", field="version")
    version_run_id(ws_root, name, version, uri)
    previous = current.get(CHAMPION)
    if previous == version:
        raise RegistryError(f"version {version} of {name!r} is already the champion", field="version")
    c.set_registered_model_alias(name, CHAMPION, version)
    if current.get(CHALLENGER) == version:
        c.delete_registered_model_alias(name, CHALLENGER)
    row = record_event(ws_root, {"action": "promote", "model": name, "version": version, "previous": previous,
                                 "user": who(user), "reason": reason, **({"details": details} if details else {})})
    _tag(c, name, version, "promoted", row)
    return row


def rollback(ws_root: str | Path, name: str, version: str | None = None, *, reason: str, user: str | None = None,
             uri: str | None = None) -> dict[str, Any]:
    """Give the champion alias back to ``version``, by default the champion before the latest promotion.

    Raises:
        RegistryError: no reason, no recorded earlier champion (and no ``version``), or no such version.
    """
    if not reason.strip():
        raise RegistryError("a rollback needs a reason", field="reason")
    c, current = client(ws_root, uri), aliases(ws_root, name, uri)
    champion = current.get(CHAMPION)
    if version is None:
        promos = [e for e in events(ws_root, name) if e["action"] == "promote" and e["version"] == champion
                  and e.get("previous")]
        if not promos:
            raise RegistryError(f"no recorded promotion of the current champion of {name!r} (version {champion}); "
                                "pass --version", field="version")
        version = promos[-1]["previous"]
    version = str(version)
    version_run_id(ws_root, name, version, uri)
    if version == champion:
        raise RegistryError(f"version {version} of {name!r} is already the champion", field="version")
    c.set_registered_model_alias(name, CHAMPION, version)
    row = record_event(ws_root, {"action": "rollback", "model": name, "version": version, "previous": champion,
                                 "user": who(user), "reason": reason})
    _tag(c, name, version, "restored", row)
    if champion:
        _tag(c, name, champion, "rolled_back", row)
    return row


def show(ws_root: str | Path, name: str, uri: str | None = None) -> pd.DataFrame:
    """Versions of ``name``, newest first: ``version``, ``aliases``, ``run_id``, ``created`` and the
    promotion/rollback tags."""
    from clinfusion.tracking.listing import list_versions

    versions = list_versions(ws_root, uri)
    versions = versions[versions["name"] == name]
    c = client(ws_root, uri)
    rows = []
    for v in versions.itertuples():
        tags = c.get_model_version(name, str(v.version)).tags or {}
        last = {k: tags[k] for k in sorted(tags) if k.endswith("_by") or k.endswith("_at")}
        rows.append({"version": int(v.version), "aliases": v.aliases, "run_id": v.run_id,
                     "created": v.creation_time.strftime("%Y-%m-%d %H:%M"), **last})
    return pd.DataFrame(rows).fillna("")


def log_decision_run(ws_root: str | Path, *, experiment: str, run_name: str, tags: dict[str, str],
                     metrics: dict[str, float], texts: dict[str, str], uri: str | None = None) -> str:
    """Log a non-training run (gate decision, drift report, retrain summary) and return its id.

    Args:
        texts: ``{artifact file name: content}`` (JSON, Markdown...).
    """
    import math

    import mlflow

    from clinfusion.tracking.run import _experiment

    use_tracking_uri(mlflow, tracking_uri(Path(ws_root), uri))
    exp_id = _experiment(mlflow, experiment, Path(ws_root))
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name) as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tags({k: str(v)[:5000] for k, v in tags.items()})
        # MLflow metric names allow [A-Za-z0-9_-. /:]; subgroup labels such as "age=[60,70)" do not
        mlflow.log_metrics({re.sub(r"[^\w\-. /:]", "_", k): float(v) for k, v in metrics.items()
                            if isinstance(v, int | float) and math.isfinite(v)})
        for fname, text in texts.items():
            (Path(tmp) / fname).write_text(text)
            mlflow.log_artifact(str(Path(tmp) / fname))
        return run.info.run_id


def annotate_run(ws_root: str | Path, run_id: str, *, tags: dict[str, str], texts: dict[str, str],
                 uri: str | None = None) -> None:
    """Add tags and text artifacts to an existing (finished) run, e.g. label-override provenance."""
    c = client(ws_root, uri)
    for k, v in tags.items():
        c.set_tag(run_id, k, str(v)[:5000])
    with tempfile.TemporaryDirectory() as tmp:
        for fname, text in texts.items():
            (Path(tmp) / fname).write_text(text)
            c.log_artifact(run_id, str(Path(tmp) / fname))


# --- read side: what the review app serves -------------------------------------------------------------------------


def _utc(ms: int) -> str:
    return pd.to_datetime(ms, unit="ms", utc=True).strftime("%Y-%m-%d %H:%M UTC")


def resolve_alias(ws_root: str | Path, name: str, alias: str, uri: str | None = None) -> dict[str, Any] | None:
    """The registered version of ``name`` that holds ``alias``, with its training run, or None.

    Returns:
        None when the model is not registered or no version holds the alias; else ``name``,
        ``version``, ``alias``, ``run_id``, ``registered_at`` / ``trained_at`` (UTC
        ``YYYY-MM-DD HH:MM``), ``fingerprint`` (the run's ``dataset_fingerprint`` tag, "" without)
        and ``artifact_uri``.
    """
    from clinfusion.tracking.listing import _client

    c = _client(ws_root, uri)  # None: no store yet (and none is created by looking)
    if c is None:
        return None
    from mlflow.exceptions import MlflowException

    try:
        mv = c.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
    run = c.get_run(mv.run_id)
    return {"name": name, "version": str(mv.version), "alias": alias, "run_id": mv.run_id,
            "registered_at": _utc(mv.creation_timestamp), "trained_at": _utc(run.info.start_time),
            "fingerprint": run.data.tags.get("dataset_fingerprint", ""), "artifact_uri": run.info.artifact_uri}


def artifact_dir(artifact_uri: str) -> Path:
    """A local directory holding a run's artifacts: the store itself for a local artifact store (no
    copy), else a one-time download into a temporary folder (one per run, reused)."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repo = get_artifact_repository(artifact_uri)
    if type(repo).__name__ == "LocalArtifactRepository":
        return Path(repo.download_artifacts("", None))
    dst = Path(tempfile.gettempdir()) / "clinfusion-artifacts" / re.sub(r"[^\w.-]", "_", artifact_uri)[-120:]
    if not (dst / ".complete").exists():
        dst.mkdir(parents=True, exist_ok=True)
        repo.download_artifacts("", str(dst))
        (dst / ".complete").write_text("")
    return dst


def predict_version(ws_root: str | Path, name: str, version: str, inputs: pd.DataFrame,
                    uri: str | None = None) -> pd.DataFrame:
    """Predictions of registered version ``version`` of ``name`` (its pyfunc) for ``inputs`` (a
    ``bundle`` column plus clinical covariates, see :mod:`clinfusion.tracking.pyfunc`).

    Raises:
        RegistryError: no such version.
    """
    from clinfusion.tracking.run import load_model

    version_run_id(ws_root, name, version, uri)
    return load_model(f"models:/{name}/{version}", tracking_uri(Path(ws_root), uri)).predict(inputs)
