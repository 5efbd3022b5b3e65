"""Two writers on one workspace: the workspace lock serialises them (issue 23 "two ingests on one workspace").

Before the lock, each ingest's start-up clean-up deleted the other's in-flight temporary files: one
run quarantined a valid ECG, the other crashed in ``atomic_path``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from clinfusion.testing.locks import lock_held_elsewhere

CLI = "from clinfusion.cli import main; raise SystemExit(main())"


def _cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


@pytest.fixture(scope="module")
def ecg_cohort(tmp_path_factory) -> Path:
    from clinfusion.synth import generate_cohort

    root = tmp_path_factory.mktemp("concurrent")
    generate_cohort(root / "cohort", 4, seed=3, modalities=("ecg",))
    return root / "cohort"


def _stable(ws: Path) -> pd.DataFrame:
    return pd.read_parquet(ws / "catalog.parquet").drop(columns=["ingested_at"])


def test_two_concurrent_ingests_end_like_one(ecg_cohort: Path, tmp_path: Path) -> None:
    ws, ref = tmp_path / "ws", tmp_path / "ref"
    procs = [_cli("ingest", str(ecg_cohort), "-w", str(ws)) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    one = _cli("ingest", str(ecg_cohort), "-w", str(ref))
    one_out = one.communicate(timeout=600)
    assert one.returncode == 0, one_out[1]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0 and "Traceback" not in err, err  # nothing crashed, nothing quarantined
    assert any("waiting for the workspace lock held by ingest pid" in err for _, err in outs)  # they did overlap
    catalog = _stable(ws)
    assert (catalog["status"] == "ingested").all()
    pd.testing.assert_frame_equal(catalog, _stable(ref))
    assert (ws / "quarantine.csv").read_text() == (ref / "quarantine.csv").read_text()
    assert not [p for p in ws.rglob(".tmp-*")]


def test_retrain_waits_for_a_running_train_then_gives_up(tmp_path: Path) -> None:
    """A retrain started while a train holds the lock waits, names it, and exits 1 at the timeout."""
    from clinfusion.ingest import ingest
    from clinfusion.testing import write_tiny_cohort

    ws = ingest(write_tiny_cohort(tmp_path / "c", 4).root, tmp_path / "ws").workspace.root
    before = (ws / "catalog.parquet").read_bytes()
    with lock_held_elsewhere(ws, "train") as holder:
        p = _cli("--lock-timeout", "1", "retrain", "-w", str(ws))
        _, err = p.communicate(timeout=300)
        reader = _cli("--lock-timeout", "0", "catalog", str(ws))  # readers never take the lock
        read_out, read_err = reader.communicate(timeout=300)
    assert reader.returncode == 0 and "clinical" in read_out and "waiting" not in read_err, read_err
    assert p.returncode == 1, err
    assert f"waiting for the workspace lock held by train pid {holder.pid} since " in err
    assert "gave up after 1 s" in err and "Traceback" not in err
    assert (ws / "catalog.parquet").read_bytes() == before  # it did not start its ingest


def test_lock_timeout_from_environment(tmp_path: Path) -> None:
    import os

    ws = tmp_path / "ws"
    ws.mkdir()
    with lock_held_elsewhere(ws, "registry promote") as holder:
        p = _cli("registry", "rollback", "-w", str(ws), "--model", "m", "--reason", "x",
                 env={**os.environ, "CLINFUSION_LOCK_TIMEOUT": "0.5"})
        _, err = p.communicate(timeout=300)
    assert p.returncode == 1 and f"held by registry promote pid {holder.pid}" in err and "gave up after 0.5 s" in err
