"""A quarantined item lists every member file in quarantine.csv, each with its own reason."""

from __future__ import annotations

from pathlib import Path

from clinfusion.ingest import ingest
from clinfusion.testing import write_tiny_cohort
from clinfusion.workspace import quarantine_table


def test_every_file_of_a_quarantined_item_is_listed(tmp_path: Path, fake_modality: str) -> None:
    root = tmp_path / "c"
    c = write_tiny_cohort(root, 2)
    bad, good = (root / "ecg" / p for p in c.patients)
    bad.mkdir(parents=True)
    good.mkdir(parents=True)
    for name, text in {"a.txt": "BAD", "a.sig": "sig", "a.hdr": "hdr"}.items():  # one item of 3 files
        (bad / name).write_text(text)
    (good / "b.txt").write_text("fine")
    rep = ingest(root, tmp_path / "ws", demo=True)
    q = quarantine_table(rep.catalog)
    item = rep.catalog[rep.catalog["status"] == "quarantined"].iloc[0]
    assert item["n_files"] == 3
    assert len(q) == 3
    assert set(q["source"]) == set(__import__("json").loads(item["files_json"]))
    primary = q[q["source"] == item["source"]]["reason"].item()
    assert "content is BAD" in primary
    others = q[q["source"] != item["source"]]["reason"]
    assert all(r == f"not read: {item['source']} of this item was quarantined" for r in others)
    assert (rep.catalog["status"] == "ingested").sum() == 2  # clinical + the good item


def test_a_dicom_series_whose_files_are_all_bad_gives_each_file_its_own_reason(tmp_path: Path) -> None:
    """Radiology reads every file of the item: each bad one keeps its own reason (truncated, not
    DICOM, no pixel data), not only the first file's."""
    from clinfusion.testing.dicom import write_bad_files, write_ct_series

    root = tmp_path / "c"
    c = write_tiny_cohort(root, 2, spec={"modalities": {"radiology": {"enabled": True}}})
    src = write_ct_series(tmp_path / "good", n_slices=2, rows=8, cols=8)
    bad = write_bad_files(root / "radiology" / c.patients[0], src[0])
    bad.pop("dicomdir").unlink()
    rep = ingest(root, tmp_path / "ws", demo=True)
    item = rep.catalog[(rep.catalog["modality"] == "radiology") & (rep.catalog["status"] == "quarantined")].iloc[0]
    assert item["n_files"] == 3
    q = quarantine_table(rep.catalog)
    q = q[q["source"].isin(__import__("json").loads(item["files_json"]))]
    assert len(q) == 3
    others = q[q["source"] != item["source"]]["reason"].tolist()
    assert not any(r.startswith("not read:") for r in others)
    assert len(set(others)) == 2  # two different files, two different reasons of their own
