"""Where runs go: the tracking URI precedence and the artifact location of a new experiment."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from clinfusion.tracking.run import _experiment, tracking_uri


class _FakeMlflow:
    """Just enough of the mlflow module for :func:`_experiment`."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.created: list[tuple[str, str | None]] = []

    def get_experiment_by_name(self, name: str):
        return None

    def get_tracking_uri(self) -> str:
        return self.uri

    def create_experiment(self, name: str, artifact_location: str | None = None) -> str:
        self.created.append((name, artifact_location))
        return "1"


def test_tracking_uri_ignores_the_process_environment(tmp_path: Path, monkeypatch) -> None:
    """mlflow sets $MLFLOW_TRACKING_URI itself, so the library must not read it (the CLI does)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////another/workspace/mlflow.db")
    assert tracking_uri(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert tracking_uri(tmp_path, "http://mlflow-host:5000") == "http://mlflow-host:5000"


def test_setting_the_uri_leaves_the_environment_alone(tmp_path: Path, monkeypatch) -> None:
    import mlflow
    from clinfusion.tracking.run import use_tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    use_tracking_uri(mlflow, tracking_uri(tmp_path))
    assert mlflow.get_tracking_uri() == tracking_uri(tmp_path)
    assert "MLFLOW_TRACKING_URI" not in os.environ


def test_cli_reads_mlflow_tracking_uri(tmp_path: Path, monkeypatch) -> None:
    """``registry show`` takes the server from $MLFLOW_TRACKING_URI when --tracking-uri is absent."""
    import clinfusion.tracking.registry as registry
    from clinfusion.cli import app
    from typer.testing import CliRunner

    seen: list[str | None] = []
    monkeypatch.setattr(registry, "show", lambda ws, name, uri=None: seen.append(uri) or pd.DataFrame())
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow-host:5000")
    CliRunner().invoke(app, ["registry", "show", "-w", str(tmp_path), "--model", "m"])
    assert seen == ["http://mlflow-host:5000"]


def test_local_store_gets_workspace_artifacts(tmp_path: Path) -> None:
    fake = _FakeMlflow(f"sqlite:///{tmp_path / 'mlflow.db'}")
    _experiment(fake, "clinfusion-demo", tmp_path)
    assert fake.created == [("clinfusion-demo", (tmp_path.resolve() / "mlartifacts").as_uri())]


def test_server_keeps_its_artifact_store(tmp_path: Path) -> None:
    fake = _FakeMlflow("http://mlflow-host:5000")
    _experiment(fake, "clinfusion-demo", tmp_path)
    assert fake.created == [("clinfusion-demo", None)]
