"""Log a training run to MLflow: params, fingerprint, metrics, artifacts, and the registered pyfunc.

This package is the only one that imports mlflow. By default the tracking store is SQLite
``WS/mlflow.db`` and artifacts go to ``WS/mlartifacts``; any URI can be given instead.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def tracking_uri(ws_root: Path, uri: str | None = None) -> str:
    """The tracking URI: ``uri`` or the workspace's SQLite store.

    ``$MLFLOW_TRACKING_URI`` is read by the CLI options (``--tracking-uri``), not here. Opening the
    workspace's own store first points its artifact locations at this workspace when it was copied
    or moved (:func:`clinfusion.tracking.relocate.relocate_store`).
    """
    if uri:
        return uri
    from clinfusion.tracking.relocate import relocate_store

    relocate_store(ws_root)
    return f"sqlite:///{Path(ws_root).resolve() / 'mlflow.db'}"


def use_tracking_uri(mlflow, uri: str) -> None:
    """``mlflow.set_tracking_uri(uri)`` without its side effect on ``$MLFLOW_TRACKING_URI`` (mlflow
    writes the variable, so a later command in the same process would otherwise inherit this store)."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before


def _experiment(mlflow, name: str, ws_root: Path) -> str:
    """Id of experiment ``name``, created when missing. A local store (SQLite or file URI) gets the
    workspace's ``mlartifacts`` folder; a tracking server keeps its own artifact store.

    Raises:
        WorkspaceError: a local store's experiment keeps its artifacts outside the workspace.
    """
    from clinfusion.tracking.relocate import check_inside

    local = mlflow.get_tracking_uri().split(":", 1)[0] in ("sqlite", "file")
    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        if mlflow.get_tracking_uri() == f"sqlite:///{Path(ws_root).resolve() / 'mlflow.db'}":  # the workspace's own
            check_inside(exp.artifact_location, ws_root, experiment=name)
        return exp.experiment_id
    location = (Path(ws_root).resolve() / "mlartifacts").as_uri() if local else None
    return mlflow.create_experiment(name, artifact_location=location)


def _private_artifacts(ws_root: Path, uri: str) -> None:
    """Files MLflow copies keep their source's mode (the package code logged beside the model is 0644):
    make the workspace store's artifacts private again (0600 files, 0700 folders)."""
    from clinfusion.workspace.workspace import private_tree

    folder = Path(ws_root).resolve() / "mlartifacts"
    if uri == tracking_uri(ws_root) and folder.is_dir():
        private_tree(folder)


def _finite(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float) and np.isfinite(v)}


def log_training(ws_root: Path, *, experiment: str, params: dict[str, str], fingerprint: str, code_version: str,
                 summary: dict[str, Any], fit, predictions: pd.DataFrame, inputs: pd.DataFrame,
                 plots: Sequence[Path] = (), uri: str | None = None, register_as: str | None = None,
                 tables: dict[str, pd.DataFrame] | None = None) -> dict[str, str]:
    """Create the MLflow run of a ``clinfusion train``.

    Args:
        ws_root: workspace (default store location).
        experiment: experiment name (created with an artifact folder in the workspace).
        params: flattened config.
        fingerprint: dataset fingerprint (catalog hash); code_version: clinfusion version.
        summary: the results dict (``models`` -> metrics), logged as metrics and ``metrics.json``.
        fit: the final model, logged as pyfunc: a :class:`~clinfusion.training.trainer.FittedFusion`
            or a :class:`~clinfusion.training.servable.ServableModel` (the stack; ``config``, ``history``).
        predictions / inputs: its predictions and pyfunc inputs on the cohort (reproducibility check).
        plots: image files to log.
        tables: extra artifacts ``{file name: frame}`` (robustness table, modality contributions, token
            attention); written as Parquet when the name ends in ``.parquet``, else as CSV.
        uri: tracking URI (default: the workspace's SQLite store).
        register_as: registered model name (None: not registered); the new version gets the alias
            ``champion`` or ``challenger`` (:func:`assign_alias`).

    Returns:
        ``{"run_id", "model_uri", "tracking_uri"}`` (and ``registered_version``, ``registered_uri``,
        ``registered_alias``).
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    from clinfusion.tracking.pyfunc import log_pyfunc

    uri = tracking_uri(ws_root, uri)
    use_tracking_uri(mlflow, uri)
    exp_id = _experiment(mlflow, experiment, ws_root)
    out: dict[str, str] = {"tracking_uri": uri}
    with mlflow.start_run(experiment_id=exp_id) as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params({k[:250]: v[:500] for k, v in params.items()})
        mlflow.set_tags({"dataset_fingerprint": fingerprint, "code_version": code_version})
        metrics = {}
        for model, res in summary["models"].items():
            for fold, c in enumerate(res["cindex"]):
                metrics[f"{model}.fold{fold}.cindex"] = c
            metrics.update({f"{model}.{k}": v for k, v in res.items() if not isinstance(v, list)})
        mlflow.log_metrics(_finite(metrics))
        for row in fit.history:
            mlflow.log_metrics(_finite({"final.train_loss": row["train_loss"], "final.val_loss": row["val_loss"]}), step=int(row["epoch"]))
        t = Path(tmp)
        (t / "metrics.json").write_text(json.dumps(summary, indent=2, default=float))
        (t / "config.json").write_text(json.dumps(fit.config.model_dump(mode="json"), indent=2))
        predictions.to_csv(t / "predictions.csv", index=False)
        inputs.to_json(t / "inputs.json", orient="split")
        for f in ("metrics.json", "config.json", "predictions.csv", "inputs.json"):
            mlflow.log_artifact(str(t / f))
        for p in plots:
            mlflow.log_artifact(str(p), artifact_path="plots")
        for name, frame in (tables or {}).items():
            if name.endswith(".parquet"):
                frame.to_parquet(Path(tmp) / name, index=False)
            else:
                frame.to_csv(Path(tmp) / name, index=False)
            mlflow.log_artifact(str(Path(tmp) / name))
        info = log_pyfunc(mlflow, fit, t)  # the fusion model as spec + weights, a stack/candidate pickled
        out["run_id"] = run.info.run_id
        out["model_uri"] = info.model_uri
    _private_artifacts(ws_root, uri)
    if register_as:
        mv = mlflow.register_model(out["model_uri"], register_as)
        out["registered_version"] = str(mv.version)
        out["registered_uri"] = f"models:/{register_as}/{mv.version}"
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        out["registered_alias"] = assign_alias(client, register_as, str(mv.version))
    return out


def assign_alias(client, name: str, version: str) -> str:
    """Give a new registered version its default alias: ``champion`` when no version of ``name`` carries
    it yet (the first registration), else ``challenger`` (moved from an older challenger). Promoting a
    challenger to champion is a separate, gated decision, never made here.

    Args:
        client: an :class:`mlflow.MlflowClient` on the registry.
        name: registered model name; version: the new version.

    Returns:
        The alias set.
    """
    alias = "challenger" if "champion" in (client.get_registered_model(name).aliases or {}) else "champion"
    client.set_registered_model_alias(name, alias, version)
    return alias


def load_model(model_uri: str, tracking: str | None = None):
    """``mlflow.pyfunc.load_model`` with the given tracking URI set (for ``models:/`` URIs)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    if tracking:
        use_tracking_uri(mlflow, tracking)
    return mlflow.pyfunc.load_model(model_uri)
