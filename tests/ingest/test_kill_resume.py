"""A real SIGKILL in the middle of an ingest, then a rerun: same catalog as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from clinfusion.ingest import ingest
from clinfusion.testing import write_tiny_cohort

SCRIPT = """
import sys
from clinfusion.modalities import registry
from clinfusion.testing.fakes import FAKE_MODALITY, FAKE_PLUGIN
registry.MODALITY_PLUGINS[FAKE_MODALITY] = FAKE_PLUGIN
from clinfusion.ingest import ingest
ingest(sys.argv[1], sys.argv[2])
"""


def test_sigkill_then_rerun(tmp_path: Path, fake_modality: str) -> None:
    c = write_tiny_cohort(tmp_path / "c", 4)
    for pid in c.patients:
        for i in range(3):
            p = c.root / "ecg" / pid / f"{i}.txt"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(f"SLOW {pid} {i}")
    ws = tmp_path / "ws"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(c.root), str(ws)], env=os.environ.copy())
    state = ws / ".state" / "items"

    def records() -> list[Path]:  # finished item records; a kill may also leave a hidden .tmp-* file
        return [p for p in state.glob("*.json") if not p.name.startswith(".")]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(records()) < 4:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(records())
    assert 4 <= done_before < 13, "the kill must land mid-run"
    assert not (ws / "catalog.parquet").exists()
    resumed = ingest(c.root, ws)
    assert resumed.reused == done_before
    reference = ingest(c.root, tmp_path / "ref").catalog
    drop = ["ingested_at"]
    pd.testing.assert_frame_equal(resumed.catalog.drop(columns=drop), reference.drop(columns=drop))
