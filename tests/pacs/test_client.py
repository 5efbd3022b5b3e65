"""Bounded retries, readable errors and auth from environment variables (Orthanc with a user)."""

from __future__ import annotations

import pytest
import requests
from clinfusion.cohort.spec import DicomWebSpec, parse_cohort_spec
from clinfusion.errors import CohortSpecError, ConfigError
from clinfusion.pacs.client import PacsError, call, make_client
from clinfusion.testing.orthanc import orthanc_missing, start_orthanc


def _http(status):
    def fail():
        r = requests.Response()
        r.status_code = status
        raise requests.HTTPError(f"{status}", response=r)
    return fail


def test_5xx_retried_with_doubling_backoff_then_status():
    waits = []
    cfg = DicomWebSpec(url="http://127.0.0.1:1/dicom-web", retries=4, backoff_s=0.5)
    with pytest.raises(PacsError) as info:
        call(_http(502), "QIDO-RS study search", cfg, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]
    assert info.value.status == 502 and "QIDO-RS study search failed: HTTP 502 after 4 attempt(s)" in str(info.value)


def test_4xx_not_retried_and_network_errors_are():
    cfg = DicomWebSpec(url="http://127.0.0.1:1/dicom-web", retries=3, backoff_s=0)
    waits = []
    with pytest.raises(PacsError, match="HTTP 404$"):
        call(_http(404), "WADO-RS retrieve", cfg, sleep=waits.append)
    assert waits == []
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise requests.ConnectionError("refused")
        return "ok"

    assert call(flaky, "x", cfg, sleep=waits.append) == "ok" and len(attempts) == 3


def test_backoff_capped():
    waits = []
    cfg = DicomWebSpec(url="http://h/dicom-web", retries=10, backoff_s=30)
    with pytest.raises(PacsError):
        call(_http(503), "x", cfg, sleep=waits.append)
    assert max(waits) == 30


def test_secret_never_in_the_file():
    with pytest.raises(CohortSpecError, match="without credentials"):
        parse_cohort_spec({"name": "c", "modalities": {"radiology": {"source": "dicomweb",
                                                                     "dicomweb": {"url": "http://u:secret@h/x"}}}})
    with pytest.raises(CohortSpecError, match="unknown key"):
        parse_cohort_spec({"name": "c", "modalities": {"radiology": {"source": "dicomweb", "dicomweb": {
            "url": "http://h/x", "auth": {"type": "bearer", "token": "abc"}}}}})


def test_basic_auth_from_environment(monkeypatch):
    if orthanc_missing():
        pytest.skip(orthanc_missing())
    server = start_orthanc(user=("clin", "s3cret-pw"))
    try:
        cfg = DicomWebSpec.model_validate({"url": server.dicomweb_url, "retries": 1, "auth": {
            "type": "basic", "username_env": "PACS_USER", "password_env": "PACS_PASSWORD"}})
        with pytest.raises(ConfigError, match="PACS_USER"):
            make_client(cfg)
        monkeypatch.setenv("PACS_USER", "clin")
        monkeypatch.setenv("PACS_PASSWORD", "wrong")
        with pytest.raises(PacsError, match="HTTP 401"):
            call(lambda: make_client(cfg).search_for_studies(), "QIDO-RS study search", cfg)
        monkeypatch.setenv("PACS_PASSWORD", "s3cret-pw")
        assert call(lambda: make_client(cfg).search_for_studies(), "QIDO-RS study search", cfg) == []
    finally:
        server.stop()


def test_stale_fetch_dirs_of_dead_processes_are_swept(tmp_path, monkeypatch):
    import subprocess
    import sys
    import tempfile

    from clinfusion.pacs.source import FETCH_DIR_PREFIX, fetch_dir_prefix, sweep_stale_fetch_dirs

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"{FETCH_DIR_PREFIX}{int(dead.stdout)}-abc"
    live = tmp_path / f"{fetch_dir_prefix()}xyz"
    other = tmp_path / f"{FETCH_DIR_PREFIX}notapid"
    for d in (stale, live, other):
        (d / "sub").mkdir(parents=True)
        (d / "sub" / "x.dcm").write_bytes(b"raw")
    assert sweep_stale_fetch_dirs() == 1
    assert not stale.exists() and live.exists() and other.exists()
