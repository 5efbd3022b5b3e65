"""A workspace can move: rewrite the absolute artifact locations of ``WS/mlflow.db`` when it did.

MLflow stores absolute locations (``file:///old/ws/mlartifacts/...``) in the experiment, run,
logged-model and model-version rows of its SQLite store, so a copied, moved or re-mounted
workspace would read its artifacts from, and log new ones into, the original. On every open of the
workspace's own store (:func:`clinfusion.tracking.run.tracking_uri`) the locations recorded under
another root's ``mlartifacts`` are rewritten to this root in one SQLite transaction (idempotent, so
two processes opening a moved workspace at once agree). A store that cannot be written (a
read-only mount) is left as it is; :func:`check_inside` then refuses to log into it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlparse

from clinfusion.errors import WorkspaceError

ARTIFACTS = "mlartifacts"
# (table, column) pairs of the MLflow 3 SQLite schema that hold artifact locations
_COLUMNS = (("experiments", "artifact_location"), ("runs", "artifact_uri"), ("logged_models", "artifact_location"),
            ("model_versions", "source"), ("model_versions", "storage_location"))
_checked: set[tuple[str, int, int]] = set()  # (db path, size, mtime_ns) already consistent with its root


def location_path(location: str) -> Path | None:
    """The local directory of an artifact location (``file://`` URI or plain path), None for a remote one."""
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" and location.startswith("/"):
        return Path(location)
    return None


def _old_roots(con: sqlite3.Connection, root: Path) -> set[Path]:
    """Workspace roots other than ``root`` whose ``mlartifacts`` the experiments point into."""
    rows = con.execute("SELECT artifact_location FROM experiments").fetchall()
    out = set()
    for (loc,) in rows:
        path = location_path(loc or "")
        if path is not None and path.name == ARTIFACTS and path.parent != root:
            out.add(path.parent)
    return out


def _tables(con: sqlite3.Connection) -> set[str]:
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _rewrite(con: sqlite3.Connection, old: Path, new: Path) -> int:
    """Replace the ``old/mlartifacts`` prefix by ``new/mlartifacts`` in every location column."""
    present, n = _tables(con), 0
    pairs = [((old / ARTIFACTS).as_uri(), (new / ARTIFACTS).as_uri()), (str(old / ARTIFACTS), str(new / ARTIFACTS))]
    for table, column in _COLUMNS:
        if table not in present:
            continue
        for before, after in pairs:
            # substr comparison, not LIKE: paths may contain the LIKE wildcards % and _
            cur = con.execute(
                f"UPDATE {table} SET {column} = ? || substr({column}, ?) "  # table/column names come from _COLUMNS
                f"WHERE substr({column}, 1, ?) = ? AND (length({column}) = ? OR substr({column}, ?, 1) = '/')",
                (after, len(before) + 1, len(before), before, len(before), len(before) + 1))
            n += cur.rowcount
    return n


def relocate_store(ws_root: str | Path) -> int:
    """Point the workspace store's artifact locations at this workspace (after a copy or move).

    Args:
        ws_root: workspace directory holding ``mlflow.db``.

    Returns:
        How many locations were rewritten (0 when nothing moved, the store is absent or read-only).
    """
    root = Path(ws_root).resolve()
    db = root / "mlflow.db"
    try:
        st = db.stat()
    except FileNotFoundError:
        return 0
    key = (str(db), st.st_size, st.st_mtime_ns)
    if key in _checked:
        return 0
    n = 0
    try:
        with sqlite3.connect(db, timeout=30) as con:
            if "experiments" not in _tables(con):
                return 0
            for old in sorted(_old_roots(con, root)):
                n += _rewrite(con, old, root)
    except sqlite3.OperationalError:  # read-only mount, or busy past the timeout: retried on the next open
        return 0
    st = db.stat()
    _checked.add((str(db), st.st_size, st.st_mtime_ns))
    return n


def check_inside(location: str | None, ws_root: str | Path, *, experiment: str) -> None:
    """Refuse to log into a local artifact location outside the workspace.

    Raises:
        WorkspaceError: ``location`` is a local path that is not under ``ws_root``.
    """
    path = location_path(location or "")
    root = Path(ws_root).resolve()
    if path is not None and not path.resolve().is_relative_to(root):
        raise WorkspaceError(
            f"MLflow experiment {experiment!r} stores its artifacts at {path}, outside this workspace; refusing to "
            "write there (a moved workspace whose mlflow.db could not be rewritten? make it writable, or use "
            "another experiment name)", file=root / "mlflow.db", field="artifact_location")
