"""Suite-wide settings: a test pseudonymisation key, no MLflow telemetry, fake-modality fixture."""

from __future__ import annotations

import pytest
from clinfusion.privacy.keys import KEY_ENV, KEY_FILE_ENV

TEST_KEY = "test-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def _test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, TEST_KEY)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def fake_modality(monkeypatch: pytest.MonkeyPatch) -> str:
    """Register the fake text reader/encoder as the 'ecg' modality for this test."""
    from clinfusion.modalities import registry
    from clinfusion.testing.fakes import FAKE_MODALITY, FAKE_PLUGIN

    monkeypatch.setitem(registry.MODALITY_PLUGINS, FAKE_MODALITY, FAKE_PLUGIN)
    return FAKE_MODALITY
