"""Registry aliases of newly registered fusion versions."""

from __future__ import annotations

import os

from clinfusion.tracking.listing import list_versions
from clinfusion.tracking.run import assign_alias


def test_first_version_becomes_champion_later_ones_challenger(tmp_path):
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"  # the workspace store of a workspace at tmp_path
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("m")
    versions = [client.create_model_version("m", source=(tmp_path / f"v{i}").as_uri()).version for i in range(3)]
    assert [assign_alias(client, "m", v) for v in versions] == ["champion", "challenger", "challenger"]
    aliases = client.get_registered_model("m").aliases
    assert aliases == {"champion": versions[0], "challenger": versions[2]}  # the challenger moved; no promotion
    listed = list_versions(tmp_path).sort_values("version")  # what the app's experiments page and panel show
    assert listed["aliases"].tolist() == ["champion", "", "challenger"]
