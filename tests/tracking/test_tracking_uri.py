"""Where runs go: the tracking URI precedence and the artifact location of a new experiment."""

from __future__ import annotations

from pathlib import Path

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


def test_tracking_uri_precedence(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow-host:5000")
    assert tracking_uri(tmp_path) == "http://mlflow-host:5000"
    assert tracking_uri(tmp_path, "sqlite:////x/db") == "sqlite:////x/db"


def test_local_store_gets_workspace_artifacts(tmp_path: Path) -> None:
    fake = _FakeMlflow(f"sqlite:///{tmp_path / 'mlflow.db'}")
    _experiment(fake, "clinfusion-demo", tmp_path)
    assert fake.created == [("clinfusion-demo", (tmp_path.resolve() / "mlartifacts").as_uri())]


def test_server_keeps_its_artifact_store(tmp_path: Path) -> None:
    fake = _FakeMlflow("http://mlflow-host:5000")
    _experiment(fake, "clinfusion-demo", tmp_path)
    assert fake.created == [("clinfusion-demo", None)]
