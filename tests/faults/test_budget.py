"""A stuck reader is killed at the per-item budget; the rest of the cohort still ingests."""

from __future__ import annotations

from pathlib import Path

import pytest
from clinfusion.ingest import ingest
from clinfusion.ingest.budget import run_with_budget
from clinfusion.testing import write_tiny_cohort


def _cohort(root: Path, seconds: float) -> list[str]:
    c = write_tiny_cohort(root, 3, spec={"limits": {"item_seconds": seconds}})
    for pid, text in zip(c.patients, ["HANG", "fine", "also fine"], strict=True):
        (root / "ecg" / pid).mkdir(parents=True)
        (root / "ecg" / pid / "x.txt").write_text(text)
    return c.patients


@pytest.mark.parametrize("workers", [1, 2])
def test_hanging_reader_is_quarantined_and_others_ingest(tmp_path: Path, fake_modality: str, workers: int) -> None:
    _cohort(tmp_path / "c", 3)
    rep = ingest(tmp_path / "c", tmp_path / "ws", demo=True, workers=workers)
    ecg = rep.catalog[rep.catalog["modality"] == "ecg"]
    assert ecg["reason"].tolist().count("took longer than 3 s (limits.item_seconds in cohort.yaml)") == 1
    assert (ecg["status"] == "ingested").sum() == 2
    assert "took longer than 3 s" in (tmp_path / "ws" / "quarantine.csv").read_text()


def _boom(x: int) -> int:
    if x == 2:
        raise ValueError("two")
    return x * 10


def test_run_with_budget_returns_results_and_errors() -> None:
    out = dict(run_with_budget(_boom, [1, 2, 3], seconds=30, workers=2))
    assert out[1] == ("ok", 10)
    assert out[3] == ("ok", 30)
    kind, err = out[2]
    assert kind == "error"
    assert isinstance(err, ValueError)
