"""A throw-away PostgreSQL server for tests: ``initdb`` + ``pg_ctl`` in a temp dir on a loopback port.

The server trusts local connections from its superuser ``clinfusion`` and listens only on
127.0.0.1 (no Unix socket); durability is switched off for speed. PostgreSQL refuses to run as
root, so under root the server runs as the ``postgres`` system user (``runuser``), which the
Debian ``postgresql`` package creates.

Example::

    with PostgresServer.start() as pg:
        url = pg.create_database("reviews")   # postgresql://clinfusion@127.0.0.1:PORT/reviews
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "clinfusion"
RUN_AS = "postgres"


def bin_dir() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl`` (on PATH, else the newest ``/usr/lib/postgresql/*/bin``), or None."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0)
    for d in reversed(dirs):
        if (Path(d) / "pg_ctl").exists() and (Path(d) / "initdb").exists():
            return Path(d)
    return None


def unavailable() -> str:
    """Why a server cannot be started here (``""``: it can); for ``pytest.skip``."""
    if bin_dir() is None:
        return "PostgreSQL binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(RUN_AS)
        except KeyError:
            return f"running as root and there is no {RUN_AS!r} user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root and `runuser` is missing"
    return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server; ``url`` is its maintenance database ``postgres``."""

    data_dir: Path
    port: int
    binaries: Path
    prefix: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    @classmethod
    def start(cls, timeout_s: float = 60.0) -> PostgresServer:
        """Create a cluster in a new temp dir and start it.

        Raises:
            RuntimeError: binaries missing (see :func:`unavailable`), or initdb/pg_ctl failed (with their output).
        """
        why = unavailable()
        if why:
            raise RuntimeError(why)
        binaries = bin_dir()
        assert binaries is not None
        base = Path(tempfile.mkdtemp(prefix="clinfusion-pg-"))
        prefix: tuple[str, ...] = ()
        if os.geteuid() == 0:
            user = pwd.getpwnam(RUN_AS)
            os.chown(base, user.pw_uid, user.pw_gid)
            prefix = ("runuser", "-u", RUN_AS, "--")
        server = cls(data_dir=base / "data", port=_free_port(), binaries=binaries, prefix=prefix)
        server._run("initdb", "-D", str(server.data_dir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                    "--no-sync", timeout_s=timeout_s)
        opts = (f"-p {server.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        server._run("pg_ctl", "start", "-w", "-t", str(int(timeout_s)), "-D", str(server.data_dir),
                    "-l", str(base / "server.log"), "-o", opts, timeout_s=timeout_s + 10)
        return server

    def _run(self, tool: str, *args: str, timeout_s: float) -> None:
        cmd = [*self.prefix, str(self.binaries / tool), *args]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        if res.returncode != 0:
            log = self.data_dir.parent / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed ({res.returncode}): {res.stdout}{res.stderr}{tail}")

    def create_database(self, name: str) -> str:
        """Create database ``name`` (letters, digits, ``_``) and return its URL."""
        import psycopg

        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name {name!r}: expected letters, digits and '_'")
        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory."""
        try:
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir), timeout_s=60)
        finally:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
