"""Workspace files are created 0600 and folders 0700 (issue 23 "file permissions").

Before: the review store (password hashes, audit log), ``mlflow.db`` and the MLflow artifacts were
0644 in 0755 folders. The commands run from a shell with the usual ``umask 022``.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from clinfusion.testing import write_tiny_cohort

CLI = "from clinfusion.cli import main; raise SystemExit(main())"
LIBRARY_RUN = """
import sys
from clinfusion.workspace import Workspace
from clinfusion.tracking.registry import log_decision_run
ws = Workspace.open(sys.argv[1])
log_decision_run(ws.root, experiment="perm-check", run_name="r", tags={"a": "b"}, metrics={"m": 1.0},
                 texts={"note.md": "text"})
"""


def _sh(*argv: str, env: dict[str, str] | None = None) -> None:
    """Run under ``umask 022`` (the pytest process may already have tightened its own umask)."""
    out = subprocess.run(["sh", "-c", 'umask 022; exec "$@"', "sh", *argv], capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0, out.stderr


def _loose(root: Path) -> list[str]:
    return [f"{oct(stat.S_IMODE(p.stat().st_mode))} {p.relative_to(root)}" for p in [root, *root.rglob("*")]
            if not p.is_symlink() and stat.S_IMODE(p.stat().st_mode) & 0o077]


def test_workspace_is_private_to_its_owner(tmp_path: Path) -> None:
    cohort = write_tiny_cohort(tmp_path / "cohort", 4).root
    ws = tmp_path / "ws"
    _sh(sys.executable, "-c", CLI, "ingest", str(cohort), "-w", str(ws))
    _sh(sys.executable, "-c", CLI, "users", "add", "alice", "--role", "clinician", "--password", "correct-horse-1",
        "-w", str(ws))
    _sh(sys.executable, "-c", LIBRARY_RUN, str(ws))  # the library alone (a notebook, the app): same modes
    assert (ws / "mlflow.db").is_file() and list((ws / "mlartifacts").rglob("note.md"))
    assert len(list(ws.iterdir())) > 6  # catalog, review store, mlflow.db, artifacts... all checked
    assert _loose(ws) == []
    assert stat.S_IMODE(os.stat(ws).st_mode) == 0o700


def test_library_demo_workspace_is_private(tmp_path: Path) -> None:
    """``ingest(..., demo=True)`` from Python (``make demo``): the demo key creates the folder first."""
    cohort = write_tiny_cohort(tmp_path / "cohort", 4).root
    env = {k: v for k, v in os.environ.items() if k != "CLINFUSION_PSEUDONYM_KEY"}
    code = "import sys; from clinfusion.ingest import ingest; ingest(sys.argv[1], sys.argv[2], demo=True)"
    _sh(sys.executable, "-c", code, str(cohort), str(tmp_path / "ws"), env=env)
    assert (tmp_path / "ws" / ".secrets" / "pseudonym.key").is_file()
    assert _loose(tmp_path / "ws") == []
