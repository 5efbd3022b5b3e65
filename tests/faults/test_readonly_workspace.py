"""A workspace that turns read-only gives a readable error naming the path, exit 1, nothing half-written.

Before: a raw ``PermissionError`` traceback (and, mid-run, valid items quarantined for it). The
write is refused for real: as root (who ignores file modes) the ingest runs without the
capabilities that bypass them (``setpriv --bounding-set``).
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clinfusion.ingest import ingest
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.privileges import mode_enforcing_cli


def _command() -> list[str]:
    cmd = mode_enforcing_cli()
    if cmd is None:
        pytest.skip("running as root without setpriv (util-linux): file modes cannot be enforced")
    return cmd


@pytest.fixture
def base(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for p in [tmp_path, *tmp_path.rglob("*")]:  # let pytest clean up
        if p.is_dir():
            os.chmod(p, 0o700)


def _readonly(top: Path) -> None:
    for p in [*sorted(top.rglob("*"), reverse=True), top]:
        os.chmod(p, stat.S_IMODE(p.stat().st_mode) & ~0o222)


def _snapshot(ws: Path) -> dict[str, bytes]:
    """Every file's bytes, except the writer lock and its holder note (written before the refusal)."""
    return {str(p.relative_to(ws)): p.read_bytes() for p in sorted(ws.rglob("*"))
            if p.is_file() and p.name not in (".lock", ".lock.json")}


@pytest.mark.parametrize("readonly", [".", "artifacts"], ids=["whole-workspace", "mid-run"])
def test_readonly_workspace_is_a_clear_error(base: Path, readonly: str) -> None:
    cohort = write_tiny_cohort(base / "cohort", 4).root
    ws = ingest(cohort, base / "ws").workspace.root
    write_tiny_cohort(cohort, 6)  # changed clinical table: the next ingest must write
    _readonly(ws / readonly)  # "mid-run": the lock and workspace.json are fine, the first artifact write fails
    before = _snapshot(ws)
    out = subprocess.run([*_command(), "ingest", str(cohort), "-w", str(ws)], capture_output=True, text=True,
                         timeout=300)
    err = " ".join(out.stderr.split())  # the console wraps long lines
    assert out.returncode == 1, err
    assert "Traceback" not in err and "PermissionError" not in err
    assert "cannot write into the workspace (Permission denied)" in err
    unwrapped = "".join(out.stderr.split())  # the console may also break a long path
    assert f"error:{ws / readonly}".removesuffix("/.") in unwrapped  # names the path it could not write
    assert _snapshot(ws) == before  # nothing half-written, no valid item quarantined for it
    assert not list(ws.rglob(".tmp-*"))
