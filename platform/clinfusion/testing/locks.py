"""Hold a workspace's writer lock from another process, as a running ``clinfusion train`` would."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

_HOLDER = """
import sys, time
from clinfusion.workspace.lock import workspace_lock
with workspace_lock(sys.argv[1], sys.argv[2], timeout=0, create=True):
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
"""


@contextlib.contextmanager
def lock_held_elsewhere(ws_root: str | Path, command: str = "train", seconds: float = 60.0) -> Iterator[subprocess.Popen]:
    """Run a process that holds the lock of ``ws_root`` as ``command`` for up to ``seconds``.

    Yields:
        The holder process (its ``pid`` is the one a waiting writer names); it is killed on exit.
    """
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(ws_root), command, str(seconds)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None  # both are PIPEs
    try:
        line = proc.stdout.readline()
        if line.strip() != "held":
            raise RuntimeError(f"lock holder did not start: {proc.stderr.read()}")
        yield proc
    finally:
        proc.kill()
        proc.wait()
