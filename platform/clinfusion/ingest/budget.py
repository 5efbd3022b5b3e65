"""Run jobs in worker processes, each killed when it exceeds its wall-clock budget.

A reader stuck in pure Python (a backtracking regex, a decoder loop) cannot be interrupted from
inside its thread, so every job runs in its own forked process that the parent kills at the
deadline. At most ``workers`` processes run at once; results come back as each job finishes (not
in job order). Forking costs about a millisecond per job on Linux, small next to reading a file.

Modules a job imports die with its process, so each job would import its reader's libraries again
(an ECG record re-imported ~1,200 modules, 4-6 s on a loaded 2-core machine, most of its cost): the
child reports the modules it imported and the parent imports them after collecting the result
(:func:`_adopt_imports`), so later forks inherit them. Results do not change; only the first job of
each kind pays the imports.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import sys
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any, cast

Outcome = tuple[str, Any]
"""``("ok", result)``, ``("error", exception)``, ``("timeout", None)`` or ``("died", exitcode)``."""


def _context() -> Any:
    return mp.get_context("fork" if sys.platform.startswith("linux") else None)


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when its parent dies (``PR_SET_PDEATHSIG``), so a worker
    never goes on writing artifacts after its ingest was killed."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


def _child(fn: Callable[[Any], Any], job: Any, conn: Connection) -> None:
    _die_with_parent()
    before = set(sys.modules)
    try:
        out: Outcome = ("ok", fn(job))
    except BaseException as err:  # every failure goes back to the parent
        out = ("error", err)
    imported = [m for m in list(sys.modules) if m not in before]  # in import order
    try:
        conn.send((*out, imported))
    except Exception as err:  # an unpicklable result or exception
        conn.send(("error", RuntimeError(f"worker result could not be sent back: {type(err).__name__}"), imported))
    finally:
        conn.close()


def _adopt_imports(names: list[str]) -> None:
    """Import in this (parent) process the modules a finished job imported, in the same order, so the
    next forked jobs inherit them instead of importing them again. A module that fails to import here
    is skipped: the next job imports it itself, as before."""
    for name in names:
        if name in sys.modules or name.startswith("__"):
            continue
        try:
            importlib.import_module(name)
        except Exception:  # only a lost speed-up, never a changed result
            continue


def run_with_budget(fn: Callable[[Any], Any], jobs: list[Any], *, seconds: float, workers: int = 1) -> Iterator[tuple[Any, Outcome]]:
    """Run ``fn(job)`` for every job in a worker process with a budget of ``seconds`` each.

    Args:
        fn: the work; must not rely on state the fork does not copy.
        jobs: the inputs.
        seconds: wall-clock budget per job, in seconds.
        workers: processes running at once (>= 1).

    Yields:
        ``(job, outcome)`` as each job ends, see :data:`Outcome`.
    """
    ctx = _context()
    pending = list(reversed(jobs))
    active: dict[Connection, tuple[Any, Any, float]] = {}
    try:
        while pending or active:
            while pending and len(active) < max(workers, 1):
                job = pending.pop()
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(fn, job, send), daemon=True)
                proc.start()
                send.close()
                active[recv] = (job, proc, time.monotonic() + seconds)
            timeout = max(0.0, min(d for _, _, d in active.values()) - time.monotonic())
            for conn in cast(list[Connection], wait(list(active), timeout=timeout)):  # only pipes are waited on
                yield _collect(conn, active.pop(conn))
            now = time.monotonic()
            for conn in [c for c, (_, _, d) in active.items() if d <= now]:
                job, proc, _ = active.pop(conn)
                proc.kill()
                proc.join()
                conn.close()
                yield job, ("timeout", None)
    finally:
        for conn, (_, proc, _) in active.items():
            proc.kill()
            proc.join()
            conn.close()


def _collect(conn: Connection, entry: tuple[Any, Any, float]) -> tuple[Any, Outcome]:
    job, proc, _ = entry
    imported: list[str] = []
    try:
        kind, value, imported = conn.recv()
        out: Outcome = (kind, value)
    except EOFError:  # the process ended without an answer: killed by the OS (memory) or crashed
        proc.join()
        out = ("died", proc.exitcode)
    finally:
        conn.close()
    proc.join()
    _adopt_imports(imported)
    return job, out
