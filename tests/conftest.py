"""Suite-wide settings: a test pseudonymisation key, no MLflow telemetry, fake-modality fixture."""

from __future__ import annotations

import pytest
from clinfusion.privacy.keys import KEY_ENV, KEY_FILE_ENV

TEST_KEY = "test-key-0123456789abcdef"
_SUITE_ENV = {KEY_ENV: TEST_KEY, "MLFLOW_DISABLE_TELEMETRY": "true", "HF_HUB_OFFLINE": "1"}


@pytest.fixture(autouse=True, scope="session")
def _suite_env():
    """The same settings for module- and session-scoped fixtures, which run before ``_test_env``.

    Without this a module-scoped workspace would fall back to a random demo key, and the
    PHI-leak tests would depend on chance (a shifted date of one patient can equal a planted date
    of another).
    """
    with pytest.MonkeyPatch.context() as mp:
        for name, value in _SUITE_ENV.items():
            mp.setenv(name, value)
        mp.delenv(KEY_FILE_ENV, raising=False)
        yield


@pytest.fixture(autouse=True)
def _test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _SUITE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the CLI reads it (--tracking-uri)


@pytest.fixture
def fake_modality(monkeypatch: pytest.MonkeyPatch) -> str:
    """Register the fake text reader/encoder as the 'ecg' modality for this test."""
    from clinfusion.modalities import registry
    from clinfusion.testing.fakes import FAKE_MODALITY, FAKE_PLUGIN

    monkeypatch.setitem(registry.MODALITY_PLUGINS, FAKE_MODALITY, FAKE_PLUGIN)
    return FAKE_MODALITY
