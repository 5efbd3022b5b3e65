"""Promotions and rollbacks: aliases, the append-only event log and model-version tags."""

from __future__ import annotations

import json
import os

import pytest
from clinfusion.tracking.registry import RegistryError, aliases, client, events, promote, rollback, show


@pytest.fixture
def registry(tmp_path):
    """Model ``m`` with versions 1 (champion), 2 and 3 (challenger) in the workspace store at tmp_path."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    c = client(tmp_path)
    c.create_registered_model("m")
    for i in range(3):
        c.create_model_version("m", source=(tmp_path / f"v{i}").as_uri())
    c.set_registered_model_alias("m", "champion", "1")
    c.set_registered_model_alias("m", "challenger", "3")
    return tmp_path


def test_promote_challenger_then_rollback_restores_previous_champion(registry):
    row = promote(registry, "m", reason="gate passed", user="alice")
    assert (row["version"], row["previous"], row["user"]) == ("3", "1", "alice")
    assert aliases(registry, "m") == {"champion": "3"}  # challenger alias consumed
    tags = client(registry).get_model_version("m", "3").tags
    assert tags["promoted_by"] == "alice" and tags["promoted_reason"] == "gate passed" and tags["promoted_at"]

    back = rollback(registry, "m", reason="calibration drift seen in clinic")
    assert (back["version"], back["previous"]) == ("1", "3") and back["user"]  # OS user by default
    assert aliases(registry, "m")["champion"] == "1"
    assert client(registry).get_model_version("m", "3").tags["rolled_back_reason"] == "calibration drift seen in clinic"
    log = [json.loads(x) for x in (registry / "registry" / "events.jsonl").read_text().splitlines()]
    assert [e["action"] for e in log] == ["promote", "rollback"] == [e["action"] for e in events(registry, "m")]
    assert all(e["time"].endswith("Z") for e in log)
    frame = show(registry, "m")
    assert frame.set_index("version").loc[1, "aliases"] == "champion"


def test_promote_explicit_version_and_refusals(registry):
    with pytest.raises(RegistryError, match="reason"):
        promote(registry, "m", "2", reason=" ")
    with pytest.raises(RegistryError, match="already the champion"):
        promote(registry, "m", "1", reason="x")
    with pytest.raises(RegistryError, match="no version 9"):
        promote(registry, "m", "9", reason="x")
    with pytest.raises(RegistryError, match="no recorded promotion"):
        rollback(registry, "m", reason="x")  # version 1 became champion without a promotion
    promote(registry, "m", "2", reason="by hand", user="bob")
    assert aliases(registry, "m") == {"champion": "2", "challenger": "3"}  # the challenger stays
    assert rollback(registry, "m", "3", reason="explicit")["version"] == "3"
