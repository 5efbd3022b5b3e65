"""One workspace, one writer: an inter-process lock around every command that writes a workspace.

Commands that write (ingest, featurize, train, retrain, registry promote/rollback, users add/remove)
hold ``WS/.lock`` (an OS file lock, ``filelock``; released by the OS when the holder dies, so a
``kill -9`` never leaves a stale lock) for their whole run. ``WS/.lock.json`` names the holder
(command, pid, host, start time) so that a second writer can say what it waits for::

    waiting for the workspace lock held by train pid 4242 since 2026-12-02T13:40:00Z

The second writer waits up to a timeout (``--lock-timeout`` of the CLI, else
``$CLINFUSION_LOCK_TIMEOUT`` in seconds, else :data:`DEFAULT_TIMEOUT_S`), then fails with
:class:`WorkspaceLockedError` (exit 1). Readers (the app, ``catalog``, ``export``, ``registry
show``) never take the lock: every file they read is replaced atomically.

The lock is re-entrant within one process: ``clinfusion retrain`` holds it and runs ingest,
featurize and train inside, which may enter :func:`workspace_lock` again without waiting on
themselves.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from clinfusion.errors import ConfigError, WorkspaceError
from clinfusion.workspace import atomic

LOCK_FILE = ".lock"
HOLDER_FILE = ".lock.json"
TIMEOUT_ENV = "CLINFUSION_LOCK_TIMEOUT"
DEFAULT_TIMEOUT_S = 1800.0  # a retrain that waits for a running train: 30 min covers the demo's ~10

_guard = threading.Lock()
_held: dict[str, list[Any]] = {}  # resolved workspace root -> [FileLock, depth] held by this process


def _drop_inherited_locks() -> None:
    """In a forked child: close the inherited descriptors of the parent's locks and forget them.

    The lock is a ``flock`` on the open file description, which a fork shares: a child (an ingest
    worker) that outlived a ``kill -9``-ed parent would otherwise keep the workspace locked under a
    dead pid. Closing the child's copy leaves the parent's lock in place.
    """
    global _guard
    _guard = threading.Lock()  # the parent's may have been held by another thread at fork time
    for lock, _depth in _held.values():
        fd = getattr(getattr(lock, "_context", None), "lock_file_fd", None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited_locks)


class WorkspaceLockedError(WorkspaceError):
    """Another process held the workspace lock for longer than the timeout."""


def lock_timeout(value: float | None = None) -> float:
    """Seconds to wait for the lock: ``value``, else ``$CLINFUSION_LOCK_TIMEOUT``, else the default.

    Raises:
        ConfigError: not a non-negative number.
    """
    raw: Any = value if value is not None else os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds >= 0:  # also catches NaN
        raise ConfigError(f"lock timeout must be a number of seconds >= 0, got {raw!r}", field=TIMEOUT_ENV)
    return seconds


def holder(root: str | Path) -> dict[str, Any] | None:
    """Who holds (or last held) the lock of workspace ``root``: ``{command, pid, host, since}``, or None."""
    try:
        return json.loads((Path(root) / HOLDER_FILE).read_text())
    except (OSError, ValueError):
        return None


def describe(info: dict[str, Any] | None) -> str:
    """``"train pid 4242 since 2026-...Z"`` (or a neutral text when the holder did not say yet)."""
    if not info:
        return "another process"
    host = f" on {info['host']}" if info.get("host") and info.get("host") != socket.gethostname() else ""
    return f"{info.get('command', '?')} pid {info.get('pid', '?')}{host} since {info.get('since', '?')}"


def _print_wait(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _reentered(key: str) -> bool:
    with _guard:
        if key in _held:
            _held[key][1] += 1
            return True
    return False


def _leave(key: str) -> FileLock | None:
    """Decrement this process's depth; the lock to release when it reached zero."""
    with _guard:
        entry = _held[key]
        entry[1] -= 1
        if entry[1] > 0:
            return None
        del _held[key]
        return entry[0]


def _acquire(lock: FileLock, root: Path, command: str, timeout: float, on_wait: Callable[[str], None]) -> None:
    try:
        lock.acquire(timeout=0)
        return
    except Timeout:
        pass
    time.sleep(0.2)  # the holder writes its name right after acquiring
    waiting = f"waiting for the workspace lock held by {describe(holder(root))}"
    on_wait(f"{waiting} (up to {timeout:g} s, see --lock-timeout / ${TIMEOUT_ENV}); {command} starts when it is free")
    try:
        lock.acquire(timeout=max(timeout - 0.2, 0))
    except Timeout:
        raise WorkspaceLockedError(
            f"{waiting}: gave up after {timeout:g} s; let that command finish, or raise --lock-timeout / "
            f"${TIMEOUT_ENV}", file=root / LOCK_FILE) from None


@contextlib.contextmanager
def workspace_lock(root: str | Path, command: str, *, timeout: float | None = None, create: bool = False,
                   on_wait: Callable[[str], None] = _print_wait) -> Iterator[None]:
    """Hold the workspace's writer lock for the block (re-entrant within this process).

    Args:
        root: workspace directory.
        command: what is running (``"ingest"``, ``"registry promote"``), shown to a waiting writer.
        timeout: seconds to wait (None: :func:`lock_timeout`).
        create: create the directory when missing (ingest makes new workspaces); otherwise a missing
            directory takes no lock and the command reports it as "not a workspace" itself.
        on_wait: receives the waiting message once (default: printed to stderr).

    Raises:
        WorkspaceLockedError: another process held the lock for longer than ``timeout``.
        WorkspaceWriteError: the workspace cannot be written (the lock file cannot be created).
    """
    root = Path(root)
    wait_s = lock_timeout(timeout)
    key = str(root.resolve())
    if _reentered(key):
        try:
            yield
        finally:
            _leave(key)
        return
    if not root.is_dir() and not create:
        yield
        return
    with atomic.refused_writes(root / LOCK_FILE):
        root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(root / LOCK_FILE, mode=0o600, thread_local=False)
        _acquire(lock, root, command, wait_s, on_wait)
    with _guard:
        _held[key] = [lock, 1]
    try:
        info = {"command": command, "pid": os.getpid(), "host": socket.gethostname(),
                "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        atomic.write_json(root / HOLDER_FILE, info)
        yield
    finally:
        released = _leave(key)
        if released is not None:
            released.release()


def held(root: str | Path) -> bool:
    """Whether this process holds the lock of workspace ``root``."""
    with _guard:
        return str(Path(root).resolve()) in _held
