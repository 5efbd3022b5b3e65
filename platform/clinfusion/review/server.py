"""Start and stop the review app server on a free loopback port (tests, benchmarks)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from clinfusion.review.store import ReviewError


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(ws_root: str | Path, port: int | None = None, *, timeout_s: float = 90.0,
          log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """Serve the app for a workspace; returns ``(process, url)`` once ``/_stcore/health`` answers.

    Raises:
        ReviewError: the server exited or did not answer within ``timeout_s``.
    """
    from clinfusion.cli.app_cmds import streamlit_command

    port = port or free_port()
    cmd, env = streamlit_command(Path(ws_root), port)
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ReviewError(f"the review app exited with code {proc.returncode}", file=log or "")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise ReviewError(f"the review app did not answer within {timeout_s:.0f} s", file=log or "")


def stop(proc: subprocess.Popen) -> None:
    """Terminate the server (kill after 10 s)."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
