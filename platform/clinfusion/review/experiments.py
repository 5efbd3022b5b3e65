"""The workspace's MLflow runs and registered model versions for the app (read-only).

Listing goes through :mod:`clinfusion.tracking.listing` (the only package that imports mlflow);
this module adds the local path of a run's artifacts.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd


def list_runs(ws_root: str | Path, uri: str | None = None) -> pd.DataFrame:
    """Runs of the workspace's tracking store, newest first (see :func:`clinfusion.tracking.listing.list_runs`)."""
    from clinfusion.tracking.listing import list_runs as _runs

    return _runs(ws_root, uri)


def list_versions(ws_root: str | Path, uri: str | None = None) -> pd.DataFrame:
    """Registered versions with aliases, newest first (see :func:`clinfusion.tracking.listing.list_versions`)."""
    from clinfusion.tracking.listing import list_versions as _versions

    return _versions(ws_root, uri)


def artifact_file(artifact_uri: str, name: str) -> Path:
    """Local path of a run artifact (``file://`` artifact stores only)."""
    parsed = urlparse(artifact_uri)
    return Path(unquote(parsed.path if parsed.scheme == "file" else artifact_uri)) / name
