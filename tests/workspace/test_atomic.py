from __future__ import annotations

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
