"""The reports CSV ``date`` column holds dates only (issue 23: a name and an MRN in it were stored).

Choice (docs/reports.md): a date cell that is not one date is never stored; its row is
rejected with the reason "date is not a date" and the other rows of the file ingest.
"""

from __future__ import annotations

import pandas as pd
import pytest
from clinfusion.ingest.runner import ingest
from clinfusion.modalities.reports.dates import shift_date_value
from clinfusion.modalities.reports.record import read_records
from clinfusion.testing import write_tiny_cohort

PHI_IN_DATE = "John Smith MRN 8812345"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("report_dates")
    tc = write_tiny_cohort(root, n_patients=2)
    p0, p1 = tc.patients
    (root / "reports").mkdir()
    pd.DataFrame([
        {"patient_id": p0, "date": "2024-03-07", "kind": "radiology", "text": "FINDINGS: Small effusion."},
        {"patient_id": p0, "date": PHI_IN_DATE, "kind": "radiology", "text": "FINDINGS: Normal."},
        {"patient_id": p1, "date": "03/07/2024 10:30", "kind": "pathology", "text": "DIAGNOSIS: Benign."},
        {"patient_id": p1, "date": "2024-13-45", "kind": "pathology", "text": "DIAGNOSIS: Benign."},
    ]).to_csv(root / "reports" / "reports.csv", index=False)
    report = ingest(root, tmp_path_factory.mktemp("ws"), demo=True)
    return report


def test_non_date_row_rejected_and_never_stored(ingested):
    ws = ingested.workspace
    row = ingested.catalog[ingested.catalog["modality"] == "reports"].iloc[0]
    assert row["status"] == "ingested"
    stored = b"".join(p.read_bytes() for p in ws.root.rglob("*") if p.is_file())
    assert b"John Smith" not in stored and b"8812345" not in stored
    assert b"date is not a date" in stored


def test_valid_dates_shifted_in_their_format(ingested):
    row = ingested.catalog[ingested.catalog["modality"] == "reports"].iloc[0]
    dates = [r["date"] for d in ingested.workspace.root.rglob("reports") if d.is_dir()
             for f in d.glob("*.jsonl") for r in read_records(d.parent, f.stem)]
    assert len(dates) == 2, (dates, row["meta_json"])
    assert "2024-03-07" not in dates and "03/07/2024 10:30" not in dates
    assert any(d.endswith(" 10:30") and d.count("/") == 2 for d in dates)


@pytest.mark.parametrize(("value", "ok"), [("2024-03-07", True), (" March 7, 2024 ", True), ("2024-03-07T08:15:00Z", True),
                                           ("John Smith", False), ("2024-03-07 John", False), ("31/31/2024", False),
                                           ("MRN 123", False), ("", False)])
def test_shift_date_value(value, ok):
    assert (shift_date_value(value, 3) is not None) == ok
