"""An input file the ingest may not read (permission denied) quarantines its item, never aborts the
cohort and never prints its raw path. As root (who ignores file modes) the ingest runs without the
capabilities that bypass them (``setpriv --bounding-set``), as in test_readonly_workspace.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.privileges import mode_enforcing_cli
from clinfusion.workspace import Workspace, read_catalog


def _command() -> list[str]:
    cmd = mode_enforcing_cli()
    if cmd is None:
        pytest.skip("running as root without setpriv (util-linux): file modes cannot be enforced")
    return cmd


def test_an_unreadable_input_file_is_quarantined_and_the_cohort_goes_on(tmp_path: Path) -> None:
    c = write_tiny_cohort(tmp_path / "cohort", 3, spec={"modalities": {"reports": {"enabled": True}}})
    for pid in c.patients:
        (c.root / "reports" / pid).mkdir(parents=True)
        (c.root / "reports" / pid / "note.txt").write_text("FINDINGS: No acute abnormality.\n")
    secret = c.root / "reports" / c.patients[0] / "note.txt"
    secret.chmod(0)
    try:
        out = subprocess.run([*_command(), "ingest", str(c.root), "-w", str(tmp_path / "ws")], capture_output=True,
                             text=True, timeout=300)
    finally:
        secret.chmod(0o600)
    assert out.returncode == 2, out.stderr  # finished, one item quarantined
    assert "Traceback" not in out.stderr and c.patients[0] not in out.stdout + out.stderr
    cat = read_catalog(Workspace.open(tmp_path / "ws"))
    reports = cat[cat["modality"] == "reports"]
    assert sorted(reports["status"]) == ["ingested", "ingested", "quarantined"]
    assert reports.loc[reports["status"] == "quarantined", "reason"].item() == "file cannot be read (permission denied)"
