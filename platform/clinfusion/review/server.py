"""Start and stop the review app server: on a free loopback port (tests, benchmarks) and in the
foreground for ``clinfusion app``, where a stop signal reaches the Streamlit child too."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from clinfusion.errors import ConfigError
from clinfusion.review.store import ReviewError

# Signals that stop `clinfusion app`: forwarded to the Streamlit child, which is then waited for.
# Without this SIGTERM ends the parent only and the orphaned child keeps serving the port.
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_GRACE_S = 10.0


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_script() -> Path:
    """``apps/review/app.py`` of this checkout (the app is not part of the installed package).

    Raises:
        ConfigError: the checkout has no review app.
    """
    path = Path(__file__).resolve().parents[3] / "apps" / "review" / "app.py"
    if not path.exists():
        raise ConfigError("the review app is missing from this checkout", file=path)
    return path


def streamlit_command(workspace: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that serve the review app on 127.0.0.1:``port``."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_script()), "--server.address", "127.0.0.1",
           "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    env = {**os.environ, "CLINFUSION_WORKSPACE": str(Path(workspace).resolve()), "MLFLOW_DISABLE_TELEMETRY": "true"}
    return cmd, env


def start(ws_root: str | Path, port: int | None = None, *, timeout_s: float = 90.0,
          log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """Serve the app for a workspace; returns ``(process, url)`` once ``/_stcore/health`` answers.

    Raises:
        ReviewError: the server exited or did not answer within ``timeout_s``.
    """
    port = port or free_port()
    cmd, env = streamlit_command(Path(ws_root), port)
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if wait_healthy(url, proc, timeout_s):
        return proc, url
    if proc.poll() is not None:
        raise ReviewError(f"the review app exited with code {proc.returncode}", file=log or "")
    stop(proc)
    raise ReviewError(f"the review app did not answer within {timeout_s:.0f} s", file=log or "")


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout_s: float = 90.0) -> bool:
    """Poll ``url/_stcore/health`` until it answers 200 (True), ``proc`` exits or ``timeout_s`` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def stop(proc: subprocess.Popen, grace_s: float = STOP_GRACE_S) -> int:
    """Terminate the server (kill after ``grace_s`` seconds); returns its exit code."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def serve_foreground(cmd: Sequence[str], env: Mapping[str, str], *, grace_s: float = STOP_GRACE_S) -> int:
    """Run the server until it exits; SIGTERM, SIGINT and SIGHUP are forwarded to it and it is waited for.

    The child is killed when it has not stopped ``grace_s`` seconds after the first forwarded
    signal, so the port is free when this returns. The previous signal handlers are restored.

    Returns:
        0 when stopped by a signal, else the server's exit code.
    """
    stopped: list[int] = []
    children: list[subprocess.Popen] = []

    def forward(signum: int, _frame) -> None:
        stopped.append(signum)
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    # Handlers first: a signal that lands while the child starts must not end this process alone.
    previous = {s: signal.signal(s, forward) for s in FORWARDED_SIGNALS}
    try:
        proc = subprocess.Popen(list(cmd), env=dict(env))
    except BaseException:
        for s, handler in previous.items():
            signal.signal(s, handler)
        raise
    children.append(proc)
    if stopped:
        proc.send_signal(stopped[0])
    try:
        # Poll rather than block: a blocking wait resumes after the handler without a deadline.
        deadline = None
        while (rc := proc.poll()) is None:
            if stopped and deadline is None:
                deadline = time.monotonic() + grace_s
            if deadline is not None and time.monotonic() > deadline:  # still serving after the grace period
                proc.kill()
            time.sleep(0.2)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if proc.poll() is None:  # an exception in this process: never leave the child behind
            stop(proc, grace_s)
    return 0 if stopped else rc
