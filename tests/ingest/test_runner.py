"""Ingest runner: accounting, quarantine, idempotence, change detection, resume, workers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from clinfusion.errors import CohortSpecError, PrivacyError, WorkspaceError
from clinfusion.ingest import ingest
from clinfusion.testing import write_tiny_cohort
from clinfusion.workspace import quarantine_table, read_catalog

VOLATILE = ["ingested_at"]


def _cohort(root: Path) -> Path:
    c = write_tiny_cohort(root, 4)
    files = {
        f"ecg/{c.patients[0]}/a.txt": "hello",
        f"ecg/{c.patients[0]}/a.rej": "sig",
        f"ecg/{c.patients[1]}/b.txt": "world",
        f"ecg/{c.patients[1]}/sub/c.txt": "BAD",
        f"ecg/{c.patients[2]}/d.txt": "CRASH",
        "ecg/STRANGER/e.txt": "who",
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def _real_names(root: Path) -> dict[str, str]:
    """Masked source -> real file name, as the operator holding the key can compute it."""
    from clinfusion.cohort import discover_files, load_cohort_spec
    from clinfusion.privacy import Pseudonymizer, load_key
    from clinfusion.privacy.paths import mask_path

    pz = Pseudonymizer(load_key())
    out = {mask_path(f, pz): Path(f.rel).name for f in discover_files(load_cohort_spec(root))}
    out["clinical.csv"] = "clinical.csv"
    return out


def _stable(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=VOLATILE).reset_index(drop=True)


def test_every_file_is_accounted_for(tmp_path: Path, fake_modality: str) -> None:
    root = _cohort(tmp_path / "c")
    rep = ingest(root, tmp_path / "ws")
    cat = rep.catalog
    assert sorted(cat["modality"]) == ["clinical", "ecg", "ecg", "ecg", "ecg", "ecg"]
    n_files = int(cat["n_files"].sum())
    assert n_files == 1 + 6  # clinical.csv + every ecg file
    real = _real_names(root)
    status = {real[s]: st for s, st in zip(cat["source"], cat["status"], strict=True)}
    assert status == {"clinical.csv": "ingested", "a.txt": "ingested", "b.txt": "ingested", "c.txt": "quarantined",
                      "d.txt": "quarantined", "e.txt": "quarantined"}
    assert not any(name in "".join(cat["source"]) + "".join(cat["files_json"]) for name in ("a.txt", "sub/c.txt"))
    reasons = " | ".join(cat["reason"])
    assert "content is BAD" in reasons and "[content]" in reasons
    assert "unexpected RuntimeError" in reasons
    assert "not in clinical.csv" in reasons
    q = quarantine_table(cat)
    assert len(q) == 4  # three quarantined items + the rejected member file a.rej
    assert rep.n_quarantined == 4
    assert (tmp_path / "ws" / "quarantine.csv").read_text().count("\n") == 5


def test_no_raw_patient_id_in_the_workspace(tmp_path: Path, fake_modality: str) -> None:
    root = _cohort(tmp_path / "c")
    ingest(root, tmp_path / "ws")
    raw = ["PT0000", "PT0001", "PT0002", "PT0003", "STRANGER"]
    for path in (tmp_path / "ws").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for pid in raw:
                assert pid.encode() not in data, f"{pid} found in {path}"
            assert pid not in str(path.relative_to(tmp_path))


def test_rerun_is_a_no_op_with_identical_catalog(tmp_path: Path, fake_modality: str) -> None:
    root = _cohort(tmp_path / "c")
    first = ingest(root, tmp_path / "ws")
    before = (tmp_path / "ws" / "catalog.parquet").read_bytes()
    second = ingest(root, tmp_path / "ws")
    assert second.processed == 0 and second.reused == len(first.catalog)
    assert (tmp_path / "ws" / "catalog.parquet").read_bytes() == before


def test_changed_added_and_removed_files(tmp_path: Path, fake_modality: str) -> None:
    root = _cohort(tmp_path / "c")
    first = ingest(root, tmp_path / "ws")
    touched = root / "ecg/PT0001/b.txt"
    os.utime(touched, ns=(1, 1))  # new mtime, same content: re-hashed, not re-read
    assert ingest(root, tmp_path / "ws").processed == 0
    touched.write_text("changed!")
    (root / "ecg/PT0003").mkdir()
    (root / "ecg/PT0003/new.txt").write_text("new")
    (root / "ecg/PT0000/a.txt").unlink()
    (root / "ecg/PT0000/a.rej").unlink()
    rep = ingest(root, tmp_path / "ws")
    assert rep.processed == 2 and rep.removed == 1
    cat = rep.catalog
    assert len(cat) == len(first.catalog)
    real = _real_names(root)
    changed = cat[[real.get(x) == "b.txt" for x in cat["source"]]].iloc[0]
    assert json.loads(changed["meta_json"]) == {"chars": 8}
    art = tmp_path / "ws" / changed["artifact_dir"] / "text.txt"
    assert art.read_text() == "CHANGED!"
    old_dirs = [d for d in (tmp_path / "ws/artifacts/ecg").rglob("*") if d.is_dir() and d.parent.parent.name == "ecg"]
    assert len(old_dirs) == 2  # the removed item's artifacts are gone


def test_interrupted_run_resumes_to_the_same_catalog(tmp_path: Path, fake_modality: str) -> None:
    root = _cohort(tmp_path / "c")
    reference = ingest(root, tmp_path / "ws_ref").catalog

    class Killed(BaseException):
        pass

    def kill_after_three(done: int, total: int, row: dict) -> None:
        if done == 3:
            raise Killed

    with pytest.raises(Killed):
        ingest(root, tmp_path / "ws", on_item=kill_after_three)
    assert not (tmp_path / "ws" / "catalog.parquet").exists()
    resumed = ingest(root, tmp_path / "ws")
    assert resumed.reused == 3 and resumed.processed == len(reference) - 3
    pd.testing.assert_frame_equal(_stable(resumed.catalog), _stable(reference))


def test_workers_give_the_same_catalog(tmp_path: Path, fake_modality: str) -> None:
    root = _cohort(tmp_path / "c")
    serial = ingest(root, tmp_path / "ws1").catalog
    parallel = ingest(root, tmp_path / "ws2", workers=2).catalog
    pd.testing.assert_frame_equal(_stable(serial), _stable(parallel))


def test_workspace_guards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tiny_cohort(tmp_path / "c", 3).root
    ingest(root, tmp_path / "ws")
    monkeypatch.setenv("CLINFUSION_PSEUDONYM_KEY", "a-completely-different-key")
    with pytest.raises(WorkspaceError, match="another pseudonymisation key"):
        ingest(root, tmp_path / "ws")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("1")
    with pytest.raises(WorkspaceError, match="not empty"):
        ingest(root, tmp_path / "full")
    monkeypatch.delenv("CLINFUSION_PSEUDONYM_KEY")
    with pytest.raises(PrivacyError):
        ingest(root, tmp_path / "ws3")
    assert ingest(root, tmp_path / "ws3", demo=True).catalog["status"].eq("ingested").all()


def test_invalid_clinical_table_stops_ingest(tmp_path: Path) -> None:
    c = write_tiny_cohort(tmp_path / "c", 3)
    c.clinical.assign(event=[0, 1, 5]).to_csv(c.root / "clinical.csv", index=False)
    with pytest.raises(CohortSpecError, match="event not in"):
        ingest(c.root, tmp_path / "ws")


def test_catalog_read_back(tmp_path: Path) -> None:
    root = write_tiny_cohort(tmp_path / "c", 3).root
    rep = ingest(root, tmp_path / "ws")
    pd.testing.assert_frame_equal(read_catalog(rep.workspace), rep.catalog)
    lineage = (tmp_path / "ws" / "lineage.jsonl").read_text().splitlines()
    assert json.loads(lineage[-1])["event"] == "ingest"
