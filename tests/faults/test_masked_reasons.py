"""Unexpected reader exceptions are stored without raw patient ids, file names or input values."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from clinfusion.ingest import ingest
from clinfusion.testing import write_tiny_cohort
from clinfusion.workspace import read_catalog


def test_leaky_exception_is_masked(tmp_path: Path, fake_modality: str, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "c"
    c = write_tiny_cohort(root, 2, id_prefix="MRN")
    leaky, fine = c.patients
    for pid, text in ((leaky, "LEAK"), (fine, "fine")):
        (root / "ecg" / pid).mkdir(parents=True)
        (root / "ecg" / pid / f"scan_of_{pid}.txt").write_text(text)
    caplog.set_level(logging.DEBUG)
    ws = tmp_path / "ws"
    rep = ingest(root, ws, demo=True)
    reason = rep.catalog.loc[rep.catalog["status"] == "quarantined", "reason"].item()
    assert reason.startswith("unexpected RuntimeError while reading")
    stored = (ws / "quarantine.csv").read_text() + read_catalog(rep.workspace).to_csv() + caplog.text
    stored += "".join(p.read_text(errors="replace") for p in ws.rglob("*") if p.is_file() and p.suffix in {".json", ".jsonl", ".log", ".csv"})
    for raw in (leaky, f"scan_of_{leaky}", "bad header value"):
        assert raw not in stored
    assert (rep.catalog["status"] == "ingested").sum() == 2
