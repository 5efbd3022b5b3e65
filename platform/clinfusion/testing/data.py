"""Where the real public data lives (``../shared/data`` or ``$CLINFUSION_SHARED_DATA``)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA_ENV = "CLINFUSION_SHARED_DATA"


def shared_data_dir() -> Path:
    """The shared data folder: ``$CLINFUSION_SHARED_DATA``, else ``../shared/data`` from the repo root."""
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[3]
    return (repo.parent / "shared" / "data").resolve()


def requires_shared_data(*relpaths: str):
    """A pytest mark that skips, with the reason, when shared data files are absent.

    Example::

        @requires_shared_data("radiology/ct_lung_dx_A0001")
        def test_ct(): ...
    """
    import pytest

    base = shared_data_dir()
    missing = [p for p in relpaths or ("",) if not (base / p).exists()]
    return pytest.mark.skipif(
        bool(missing),
        reason=f"shared data not found: {[str(base / m) for m in missing]} (set ${SHARED_DATA_ENV} or put it at ../shared/data)",
    )
