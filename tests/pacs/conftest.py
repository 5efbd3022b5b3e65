"""Fixtures of the PACS tests: a real Orthanc (skipped, with the reason, where it is not installed)."""

from __future__ import annotations

import pytest
from clinfusion.testing.orthanc import orthanc_missing, start_orthanc


@pytest.fixture(scope="module")
def orthanc():
    """A fresh Orthanc with the DICOMweb plugin on a free loopback port, per test module."""
    reason = orthanc_missing()
    if reason:
        pytest.skip(reason)
    server = start_orthanc()
    try:
        yield server
    finally:
        server.stop()
