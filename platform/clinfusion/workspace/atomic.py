"""Atomic writes: write to a temporary file in the target's directory, fsync, then rename.

A reader never sees a half-written file; a crash leaves either the old file or the new one
(plus, at worst, a ``.tmp-<pid>-*`` file that :func:`cleanup_temp` removes later).

Temporary names carry the writing process's id, so a clean-up only removes leftovers of processes
that are no longer running: two processes writing into one workspace never delete each other's
files in flight (the workspace lock, :mod:`clinfusion.workspace.lock`, keeps writers apart anyway).

A write that the file system refuses (read-only workspace, permission denied, disk full) raises
:class:`WorkspaceWriteError` naming the path, never a raw ``OSError``, and leaves the old file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from clinfusion.errors import WorkspaceError

TMP_PREFIX = ".tmp-"
_TMP_PID = re.compile(rf"^{re.escape(TMP_PREFIX)}(\d+)-")
# errno values that mean "this location cannot be written", as opposed to a bug in the caller
_UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


class WorkspaceWriteError(WorkspaceError):
    """The file system refused a write into the workspace (read-only, permission denied, disk full)."""


def _prefix() -> str:
    return f"{TMP_PREFIX}{os.getpid()}-"


def unwritable(err: OSError, path: str | Path) -> WorkspaceWriteError:
    """The readable error for a refused write of ``path`` (``err.filename`` when it names a file)."""
    where = err.filename or path
    if Path(os.fsdecode(where)).name.startswith(TMP_PREFIX):  # name the file being written, not its temp name
        where = path
    reason = os.strerror(err.errno) if err.errno else str(err)
    return WorkspaceWriteError(f"cannot write into the workspace ({reason}); is it read-only or full? "
                               "nothing was half-written: rerun once it is writable", file=where)


def _concerns(err: OSError, inside: Path | None) -> bool:
    """Whether ``err`` is a refused write of a path under ``inside`` (any path when None)."""
    if err.errno not in _UNWRITABLE:
        return False
    if inside is None or not err.filename:
        return True
    return Path(os.fsdecode(err.filename)).absolute().is_relative_to(inside.absolute())


@contextlib.contextmanager
def refused_writes(path: str | Path, *, inside: str | Path | None = None) -> Iterator[None]:
    """Turn an :data:`_UNWRITABLE` ``OSError`` raised in the block into :class:`WorkspaceWriteError`.

    Args:
        path: what was being written (named when the error names no file).
        inside: only errors about files under this directory are converted (an unreadable input
            file read inside the block stays an ``OSError`` for its caller to handle).
    """
    try:
        yield
    except OSError as err:
        if _concerns(err, Path(inside) if inside is not None else None):
            raise unwritable(err, path) from err
        raise


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` if the block succeeds.

    Raises:
        WorkspaceWriteError: the directory cannot be written.
    """
    target = Path(target)
    with refused_writes(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_prefix(), suffix=target.suffix, dir=target.parent)
        os.close(fd)
    tmp_path = Path(tmp)
    try:
        with refused_writes(target, inside=target.parent):
            yield tmp_path
            with open(tmp_path, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(OSError):  # a directory that turned read-only keeps the temp file
            tmp_path.unlink(missing_ok=True)


def write_bytes(target: str | Path, data: bytes) -> None:
    """Atomically write bytes."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | Path, text: str) -> None:
    """Atomically write UTF-8 text."""
    write_bytes(target, text.encode("utf-8"))


def write_json(target: str | Path, obj: Any) -> None:
    """Atomically write JSON (sorted keys, so equal objects give equal bytes)."""
    write_text(target, json.dumps(obj, indent=1, sort_keys=True, default=str) + "\n")


def write_parquet(target: str | Path, frame: pd.DataFrame) -> None:
    """Atomically write a DataFrame as Parquet (no index)."""
    with atomic_path(target) as tmp:
        frame.to_parquet(tmp, index=False)


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``target`` (old contents removed).

    The swap is two renames (old -> trash, tmp -> target), so a crash in between leaves the
    target absent rather than half-written; the item is then simply ingested again.

    Raises:
        WorkspaceWriteError: the parent directory cannot be written (checked before the block runs).
    """
    target = Path(target)
    with refused_writes(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=_prefix(), dir=target.parent))
    try:
        yield tmp
        with refused_writes(target):
            if target.exists():
                trash = Path(tempfile.mkdtemp(prefix=_prefix(), dir=target.parent))
                os.replace(target, trash / "old")
                shutil.rmtree(trash, ignore_errors=True)
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a process of another user counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_pid(name: str) -> int | None:
    """The pid in a temporary name ``.tmp-<pid>-*``, or None for a name without one (older versions)."""
    m = _TMP_PID.match(name)
    return int(m.group(1)) if m else None


def cleanup_temp(root: str | Path) -> int:
    """Remove leftovers of interrupted atomic writes under ``root``; returns how many.

    Only leftovers of processes that no longer run are removed (and names without a pid, written
    by older versions): a temporary file of a live process, this one included, is still being
    written and is kept.
    """
    n = 0
    for p in Path(root).rglob(f"{TMP_PREFIX}*"):
        pid = owner_pid(p.name)
        if pid is not None and _alive(pid):
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        n += 1
    return n
