"""A demo workspace's generated key is used only in demo mode (issue 23 "the demo key").

Before: a workspace created with ``--demo`` was used later without ``--demo`` and without a
configured key, silently, as if it held real data under a real key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from clinfusion.errors import PrivacyError
from clinfusion.privacy import keys
from clinfusion.testing import write_tiny_cohort

CLI = "from clinfusion.cli import main; raise SystemExit(main())"


def _ingest(cohort: Path, ws: Path, *flags: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in (keys.KEY_ENV, keys.KEY_FILE_ENV, keys.DEMO_ENV)}
    return subprocess.run([sys.executable, "-c", CLI, "ingest", str(cohort), "-w", str(ws), *flags],
                          capture_output=True, text=True, env={**clean, **env}, timeout=300)


def test_demo_key_needs_demo_mode_on_the_cli(tmp_path: Path) -> None:
    cohort = write_tiny_cohort(tmp_path / "cohort", 4).root
    ws = tmp_path / "ws"
    assert _ingest(cohort, ws, "--demo").returncode == 0
    assert (ws / ".secrets" / "pseudonym.key").is_file()
    out = _ingest(cohort, ws)
    err = " ".join(out.stderr.split())
    assert out.returncode == 1 and "Traceback" not in err
    assert "holds a generated demo key and no key is configured: pass --demo (or set $CLINFUSION_DEMO=1 for" in err
    assert _ingest(cohort, ws, CLINFUSION_DEMO="1").returncode == 0  # the later commands of a demo workspace
    assert _ingest(cohort, ws, "--demo").returncode == 0


def test_demo_key_in_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (keys.KEY_ENV, keys.KEY_FILE_ENV, keys.DEMO_ENV):
        monkeypatch.delenv(name, raising=False)
    ws = tmp_path / "ws"
    with pytest.raises(PrivacyError, match="no pseudonymisation key configured"):
        keys.load_key(ws)
    monkeypatch.setenv(keys.DEMO_ENV, "1")
    with pytest.raises(PrivacyError, match="no pseudonymisation key configured"):
        keys.load_key(ws)  # $CLINFUSION_DEMO reuses a demo key, never generates one
    monkeypatch.delenv(keys.DEMO_ENV)
    (ws / keys.DEMO_KEY_PATH).parent.mkdir(parents=True)
    (ws / keys.DEMO_KEY_PATH).write_text("d" * 64)
    with pytest.raises(PrivacyError, match="holds a generated demo key") as err:
        keys.load_key(ws)
    assert err.value.file.endswith("pseudonym.key") and "d" * 16 not in str(err.value)
    demo = keys.load_key(ws, demo=True)
    assert keys.load_key(ws) == demo  # granted for this workspace in this process (pipelines after ingest --demo)
    other = tmp_path / "other"
    (other / keys.DEMO_KEY_PATH).parent.mkdir(parents=True)
    (other / keys.DEMO_KEY_PATH).write_text("e" * 64)
    with pytest.raises(PrivacyError, match="holds a generated demo key"):
        keys.load_key(other)  # another workspace was not granted
    monkeypatch.setenv(keys.KEY_ENV, "a-real-key-0123456789")
    assert keys.load_key(tmp_path / "other").source == f"${keys.KEY_ENV}"  # a configured key always wins
