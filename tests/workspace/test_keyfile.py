"""Per-workspace key files: made once with private permissions, never replaced, shared by racers."""

from __future__ import annotations

import multiprocessing as mp
import stat
from pathlib import Path

import pytest
from clinfusion.workspace import keyfile


def _read_in_child(path: str, queue: mp.Queue[str]) -> None:
    keyfile._CACHE.clear()
    queue.put(keyfile.secret_bytes(path).hex())


def test_created_once_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / ".secrets" / "x.key"
    first = keyfile.secret_bytes(path)
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    keyfile._CACHE.clear()
    assert keyfile.secret_bytes(path) == first  # read back, not regenerated
    assert [p.name for p in path.parent.iterdir()] == ["x.key"]  # no temporary files left


def test_existing_key_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    path.write_text("ab" * 32 + "\n")
    assert keyfile.secret_bytes(path) == bytes.fromhex("ab" * 32)


def test_concurrent_processes_agree(tmp_path: Path) -> None:
    path = str(tmp_path / ".secrets" / "race.key")
    ctx = mp.get_context("fork")
    queue: mp.Queue[str] = ctx.Queue()
    procs = [ctx.Process(target=_read_in_child, args=(path, queue)) for _ in range(4)]
    for p in procs:
        p.start()
    got = {queue.get(timeout=30) for _ in procs}
    for p in procs:
        p.join()
    assert len(got) == 1


def test_corrupt_key_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_text("not hex at all")
    with pytest.raises(ValueError, match="bad.key"):
        keyfile.secret_bytes(path)
