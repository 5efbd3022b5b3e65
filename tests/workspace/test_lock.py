"""One workspace, one writer: the lock waits, names its holder, times out, and is re-entrant."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from clinfusion.errors import ConfigError
from clinfusion.testing.locks import lock_held_elsewhere
from clinfusion.workspace.lock import WorkspaceLockedError, held, lock_timeout, workspace_lock


def test_timeout_names_the_holder(tmp_path: Path) -> None:
    seen: list[str] = []
    with lock_held_elsewhere(tmp_path, "train") as holder:
        locked = pytest.raises(WorkspaceLockedError, match=rf"held by train pid {holder.pid} since 20\d\d-")
        with locked as err, workspace_lock(tmp_path, "retrain", timeout=0.5, on_wait=seen.append):
            pytest.fail("the lock was held by another process")
        assert "gave up after 0.5 s" in str(err.value)
    assert len(seen) == 1 and seen[0].startswith(f"waiting for the workspace lock held by train pid {holder.pid} since ")


def test_waits_until_the_holder_finishes(tmp_path: Path) -> None:
    seen: list[str] = []
    with lock_held_elsewhere(tmp_path, "ingest", seconds=1.5), \
            workspace_lock(tmp_path, "featurize", timeout=60, on_wait=seen.append):
        assert held(tmp_path)
    assert len(seen) == 1 and "held by ingest pid" in seen[0]
    assert not held(tmp_path)


def test_reentrant_within_a_process(tmp_path: Path) -> None:
    """retrain holds the lock and runs ingest/featurize/train inside: no self-deadlock."""
    with workspace_lock(tmp_path, "retrain", timeout=0), workspace_lock(tmp_path, "ingest", timeout=0):
        assert held(tmp_path)
    assert not held(tmp_path)
    out = subprocess.run([sys.executable, "-c", "from clinfusion.workspace.lock import workspace_lock as w\n"
                          f"with w({str(tmp_path)!r}, 'x', timeout=0): print('free')"], capture_output=True, text=True)
    assert out.stdout.strip() == "free", out.stderr  # released for other processes


def test_released_when_the_block_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), workspace_lock(tmp_path, "train", timeout=0):
        raise RuntimeError("boom")
    assert not held(tmp_path)


def test_missing_workspace_takes_no_lock_unless_created(tmp_path: Path) -> None:
    with workspace_lock(tmp_path / "absent", "train", timeout=0):
        pass
    assert not (tmp_path / "absent").exists()
    with workspace_lock(tmp_path / "new", "ingest", timeout=0, create=True):
        assert (tmp_path / "new" / ".lock.json").is_file()


def test_timeout_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINFUSION_LOCK_TIMEOUT", "12.5")
    assert lock_timeout() == 12.5 and lock_timeout(3) == 3
    monkeypatch.setenv("CLINFUSION_LOCK_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="CLINFUSION_LOCK_TIMEOUT"):
        lock_timeout()
