from __future__ import annotations

import os
from pathlib import Path

import pytest
from clinfusion.workspace import atomic


def _crash_writing_file(target: Path) -> None:
    with atomic.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")


def _crash_writing_dir(target: Path) -> None:
    with atomic.atomic_dir(target) as tmp:
        (tmp / "broken.txt").write_text("3")
        raise ValueError("crash")


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    atomic.write_json(target, {"a": 1})
    with pytest.raises(RuntimeError, match="crash"):
        _crash_writing_file(target)
    assert target.read_text().strip().startswith("{")
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_atomic_dir_replaces_whole_directory(tmp_path: Path) -> None:
    target = tmp_path / "d"
    with atomic.atomic_dir(target) as tmp:
        (tmp / "old.txt").write_text("1")
    with atomic.atomic_dir(target) as tmp:
        (tmp / "new.txt").write_text("2")
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    with pytest.raises(ValueError, match="crash"):
        _crash_writing_dir(target)
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_cleanup_removes_leftovers(tmp_path: Path) -> None:
    (tmp_path / f"{atomic.TMP_PREFIX}abc").write_text("x")
    (tmp_path / "sub" / f"{atomic.TMP_PREFIX}dir").mkdir(parents=True)
    (tmp_path / "keep.txt").write_text("x")
    assert atomic.cleanup_temp(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["keep.txt", "sub"]


def test_cleanup_keeps_temp_files_of_live_processes(tmp_path: Path) -> None:
    """A second ingest's start-up clean-up must not delete the files another process is writing."""
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    mine = tmp_path / f"{atomic.TMP_PREFIX}{os.getpid()}-abc.json"
    gone = tmp_path / f"{atomic.TMP_PREFIX}{int(dead.stdout)}-abc.json"
    mine.write_text("in flight")
    gone.write_text("left by a killed process")
    with atomic.atomic_path(tmp_path / "x.json") as tmp:
        assert atomic.owner_pid(tmp.name) == os.getpid()
        assert atomic.cleanup_temp(tmp_path) == 1  # only the dead process's file
        tmp.write_text("{}")
    assert mine.exists() and not gone.exists() and (tmp_path / "x.json").read_text() == "{}"


def test_refused_write_is_a_readable_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "f.json"))

    atomic.write_json(tmp_path / "f.json", {"a": 1})
    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(atomic.WorkspaceWriteError, match=r"f\.json: cannot write into the workspace \(Read-only"):
        atomic.write_json(tmp_path / "f.json", {"a": 2})
    assert (tmp_path / "f.json").read_text().startswith('{\n "a": 1')
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_unreadable_input_inside_a_block_stays_an_os_error(tmp_path: Path) -> None:
    """Only refused writes under the target's folder become WorkspaceWriteError (an input error is the reader's)."""
    import errno

    with pytest.raises(PermissionError), atomic.atomic_path(tmp_path / "ws" / "f.json"):
        raise PermissionError(errno.EACCES, "Permission denied", "/cohort/secret.csv")


def test_private_tree_removes_group_and_other_bits(tmp_path: Path) -> None:
    from clinfusion.workspace.workspace import private_tree

    (tmp_path / "d").mkdir()
    os.chmod(tmp_path / "d", 0o755)  # explicit: the process umask may already be 077 (set by the library)
    (tmp_path / "d" / "f.py").write_text("x")
    os.chmod(tmp_path / "d" / "f.py", 0o644)
    assert private_tree(tmp_path / "d") == 2
    assert (os.stat(tmp_path / "d").st_mode & 0o777, os.stat(tmp_path / "d" / "f.py").st_mode & 0o777) == (0o700, 0o600)
