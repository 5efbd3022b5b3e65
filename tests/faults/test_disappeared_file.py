"""A file deleted while ingest runs quarantines that item, without its raw path; the rest ingests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clinfusion.ingest import ingest
from clinfusion.testing import write_tiny_cohort

GONE = "file disappeared while reading"


def _cohort(root: Path, texts: list[str]) -> list[str]:
    c = write_tiny_cohort(root, len(texts))
    for pid, text in zip(c.patients, texts, strict=True):
        (root / "ecg" / pid).mkdir(parents=True)
        (root / "ecg" / pid / f"note_{pid}.txt").write_text(text)
    return c.patients


def test_file_deleted_during_read(tmp_path: Path, fake_modality: str) -> None:
    pids = _cohort(tmp_path / "c", ["fine", "VANISH", "fine"])
    rep = ingest(tmp_path / "c", tmp_path / "ws", demo=True)
    ecg = rep.catalog[rep.catalog["modality"] == "ecg"]
    assert ecg["reason"].tolist().count(GONE) == 1
    assert (ecg["status"] == "ingested").sum() == 2
    assert f"note_{pids[1]}" not in (tmp_path / "ws" / "quarantine.csv").read_text()


def test_file_deleted_between_items(tmp_path: Path, fake_modality: str) -> None:
    root = tmp_path / "c"
    pids = _cohort(root, ["a", "b", "c"])
    victim = root / "ecg" / pids[2] / f"note_{pids[2]}.txt"

    def delete_later_file(done: int, total: int, row: dict[str, Any]) -> None:
        if row["modality"] == "ecg" and victim.exists():
            victim.unlink()

    rep = ingest(root, tmp_path / "ws", demo=True, on_item=delete_later_file)
    ecg = rep.catalog[rep.catalog["modality"] == "ecg"]
    assert ecg["reason"].tolist() == ["", "", GONE]
