"""Stopping ``clinfusion app`` with SIGTERM stops its Streamlit child too, and frees the port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from clinfusion.ingest import ingest
from clinfusion.review import server
from clinfusion.testing import write_tiny_cohort

CLI = "from clinfusion.cli import main; raise SystemExit(main())"


def _children(pid: int) -> list[int]:
    """Direct child pids of ``pid`` (Linux /proc)."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (or is a zombie nobody waited for)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to find the child process")
def test_sigterm_stops_the_streamlit_child_and_frees_the_port(tmp_path: Path) -> None:
    c = write_tiny_cohort(tmp_path / "c", 3)
    ws = tmp_path / "ws"
    ingest(c.root, ws)
    port = server.free_port()
    log = (tmp_path / "app.log").open("wb")
    parent = subprocess.Popen([sys.executable, "-c", CLI, "app", "-w", str(ws), "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    child = None
    try:
        assert server.wait_healthy(f"http://127.0.0.1:{port}", parent, timeout_s=120), \
            (tmp_path / "app.log").read_text()
        (child,) = _children(parent.pid)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(30) == 0
        assert _gone(child), "the Streamlit child still runs after the parent got SIGTERM"
        assert not _port_open(port), "the port still answers after SIGTERM"
    finally:
        for pid in (parent.pid, child):
            if pid and not _gone(pid):
                os.kill(pid, signal.SIGKILL)
        parent.wait(10)
        log.close()


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    stubborn = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('up', flush=True); time.sleep(120)"]
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM))  # as `kill PID` would
    timer.start()
    try:
        assert server.serve_foreground(stubborn, dict(os.environ), grace_s=1.0) == 0
    finally:
        timer.cancel()
    assert signal.getsignal(signal.SIGTERM) is before  # the previous handler is back
