"""WFDB header fields are validated before wfdb's silent defaults apply (issue 23).

A sampling rate that is not a number was read as 250 Hz (a 10 s record at 500 Hz came out
20 s long, its heart rate halved). Each bad header is quarantined naming the field; the good
record of the same cohort still ingests with its real rate.
"""

from __future__ import annotations

import re
import shutil

import pytest
from clinfusion.errors import IngestError
from clinfusion.ingest.locate import real_paths
from clinfusion.ingest.runner import ingest
from clinfusion.modalities.ecg.formats.wfdb_header import validate_header
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.ecg import LEADS_12, synthetic_ecg, write_wfdb


def _edit_signal0(header: str, pattern: str, repl: str) -> str:
    lines = header.splitlines()
    lines[1] = re.sub(pattern, repl, lines[1], count=1)
    return "\n".join(lines) + "\n"


def _edit_record(header: str, fields: list[str]) -> str:
    lines = header.splitlines()
    return "\n".join([" ".join(fields), *lines[1:]]) + "\n"


BAD = {  # header edit -> the field the quarantine reason must name
    "fs_text": (lambda h: _edit_record(h, ["x", "12", "fivehundred", "5000"]), "[fs]"),
    "fs_missing": (lambda h: _edit_record(h, ["x", "12"]), "[fs]"),
    "gain_text": (lambda h: _edit_signal0(h, r" [0-9.]+\(", " abc("), "[gain[0]]"),
    "baseline": (lambda h: _edit_signal0(h, r"\(-?\d+\)", "(zero)"), "[baseline[0]]"),
    "units": (lambda h: _edit_signal0(h, r"/mV", "/"), "[units[0]]"),
    "too_long": (lambda h: _edit_record(h, ["x", "12", "500", "50000"]), "[n_samples]"),
    "long_comment": (lambda h: h + "# Name: " + "A" * 20_000 + "\n", "[header]: line 14 longer than 10000"),
}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("wfdb_hdr")
    tc = write_tiny_cohort(root, n_patients=2)
    good_dir = root / "ecg" / tc.patients[0]
    write_wfdb(good_dir, "good", synthetic_ecg(10, 500, hr_bpm=72, seed=0), 500, LEADS_12)
    header = (good_dir / "good.hea").read_text()
    bad_dir = root / "ecg" / tc.patients[1]
    bad_dir.mkdir(parents=True)
    for name, (edit, _) in BAD.items():
        text = edit(header).replace("good", name)
        assert text != header.replace("good", name), name
        text = text.replace("x 12", f"{name} 12", 1)
        (bad_dir / f"{name}.hea").write_text(text)
        for dat in good_dir.glob("good.*"):
            if dat.suffix != ".hea":
                shutil.copy(dat, bad_dir / f"{name}{dat.suffix}")
    return tc


def test_bad_headers_quarantined_with_field_and_good_record_kept(cohort, tmp_path):
    report = ingest(cohort.root, tmp_path / "ws", demo=True)
    cat = report.catalog[report.catalog["modality"] == "ecg"]
    real = real_paths(report.workspace, cohort.root)
    by_name = {real[r.source].rsplit("/", 1)[-1]: r for r in cat.itertuples()}
    good = by_name["good.hea"]
    assert good.status == "ingested"
    assert '"fs_original_hz": 500.0' in good.meta_json and '"duration_s": 10.0' in good.meta_json
    for name, (_, field) in BAD.items():
        row = by_name[f"{name}.hea"]
        assert row.status == "quarantined", name
        assert field in row.reason, (name, row.reason)


def test_validator_accepts_counter_frequency_and_reports_signal_count(tmp_path):
    hea = tmp_path / "r.hea"
    hea.write_text("r 1 360/360(0) 10\nr.dat 16 200(0)/mV 16 0 0 0 0 MLII\n")
    (tmp_path / "r.dat").write_bytes(b"\x00" * 20)
    validate_header(hea)
    hea.write_text("r 2 360 10\nr.dat 16 200(0)/mV 16 0 0 0 0 MLII\n")
    with pytest.raises(IngestError, match="declares 2 signals"):
        validate_header(hea)
