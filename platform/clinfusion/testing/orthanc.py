"""A throw-away Orthanc PACS (Debian's ``orthanc`` + ``orthanc-dicomweb``) for tests and benchmarks.

:func:`start_orthanc` writes a JSON configuration into a temporary directory (storage and index
there too), starts ``/usr/sbin/Orthanc`` on a free loopback port with the DICOMweb plugin, no
DICOM (C-STORE) listener and optionally one HTTP user, and waits until its REST API answers.
:meth:`Orthanc.upload` stores DICOM files through the REST API (``POST /instances``). The server
is stopped (its process only) and its directory removed by :meth:`Orthanc.stop`.

The pytest fixture ``orthanc`` in ``tests/pacs/conftest.py`` skips, with the reason, where the
binary or the plugin is absent (``.ci/run`` installs both).
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ORTHANC_BIN = Path("/usr/sbin/Orthanc")
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def orthanc_missing() -> str:
    """Why Orthanc cannot be started here (``""`` when it can)."""
    if not ORTHANC_BIN.is_file():
        return f"{ORTHANC_BIN} not installed (apt-get install orthanc orthanc-dicomweb; .ci/run does)"
    if not DICOMWEB_PLUGIN.is_file():
        return f"{DICOMWEB_PLUGIN} not installed (apt-get install orthanc-dicomweb)"
    return ""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Orthanc:
    """A running Orthanc.

    Attributes:
        port: HTTP port on 127.0.0.1; root: its temporary directory; user: ``(name, password)``
        of the one HTTP user, or ``None`` when authentication is off.
    """

    port: int
    root: Path
    process: subprocess.Popen
    user: tuple[str, str] | None = None
    uploaded: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """REST API base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb_url(self) -> str:
        """DICOMweb base URL (QIDO-RS, WADO-RS and STOW-RS below it)."""
        return f"{self.url}/dicom-web"

    def _request(self, method: str, path: str, data: bytes | None = None,
                 content_type: str = "application/json") -> bytes:
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", content_type)
        if self.user:
            token = base64.b64encode(f"{self.user[0]}:{self.user[1]}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(req, timeout=30) as resp:  # loopback only
            return resp.read()

    def get_json(self, path: str) -> object:
        """GET a REST resource as JSON (e.g. ``/instances``)."""
        return json.loads(self._request("GET", path))

    def upload(self, files: Iterable[Path]) -> list[str]:
        """Store DICOM files (``POST /instances``); returns Orthanc's instance ids."""
        ids = []
        for f in files:
            ans = json.loads(self._request("POST", "/instances", Path(f).read_bytes(), "application/dicom"))
            ids.append(str(ans["ID"]))
        self.uploaded += ids
        return ids

    def delete_all(self) -> None:
        """Remove every stored patient."""
        patients = self.get_json("/patients")
        assert isinstance(patients, list), f"Orthanc /patients returned {type(patients).__name__}, expected a list"
        for pid in patients:
            self._request("DELETE", f"/patients/{pid}")

    def stop(self) -> None:
        """Stop this Orthanc process and remove its directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _config(root: Path, port: int, user: tuple[str, str] | None) -> dict:
    return {
        "Name": "clinfusion-test",
        "StorageDirectory": str(root / "storage"),
        "IndexDirectory": str(root / "storage"),
        "StorageCompression": False,
        "HttpPort": port,
        "DicomServerEnabled": False,
        "DicomPort": free_port(),
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": user is not None,
        "RegisteredUsers": {user[0]: user[1]} if user else {},
        "HttpCompressionEnabled": False,
        "ConcurrentJobs": 1,
        "HttpThreadsCount": 4,
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False, "Ssl": False,
                     "StudiesMetadata": "Full", "SeriesMetadata": "Full"},
    }


def start_orthanc(*, user: tuple[str, str] | None = None, timeout_s: float = 60.0) -> Orthanc:
    """Start Orthanc on a free loopback port with a temporary storage directory.

    Args:
        user: ``(name, password)`` to require HTTP basic authentication, or ``None``.
        timeout_s: how long to wait for the REST API, in seconds.

    Raises:
        RuntimeError: Orthanc is missing, exited, or did not answer in time (with its log tail).
    """
    missing = orthanc_missing()
    if missing:
        raise RuntimeError(missing)
    root = Path(tempfile.mkdtemp(prefix="clinfusion-orthanc-"))
    port = free_port()
    (root / "orthanc.json").write_text(json.dumps(_config(root, port, user), indent=1))
    log = (root / "orthanc.log").open("wb")
    proc = subprocess.Popen([str(ORTHANC_BIN), str(root / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT,
                            cwd=root)
    server = Orthanc(port, root, proc, user)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            server.get_json("/system")
            return server
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    tail = (root / "orthanc.log").read_text(errors="replace")[-2000:]
    server.stop()
    raise RuntimeError(f"Orthanc did not start on port {port}: {tail}")
