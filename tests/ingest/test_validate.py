from __future__ import annotations

from pathlib import Path

import pandas as pd
from clinfusion.ingest.validate import validate_cohort
from clinfusion.testing import write_tiny_cohort


def test_valid_tiny_cohort(tmp_path: Path) -> None:
    c = write_tiny_cohort(tmp_path / "c", 6)
    report = validate_cohort(c.root)
    assert report.ok, report.problems
    assert report.summary["patients"] == 6


def test_all_problems_in_one_report(tmp_path: Path) -> None:
    c = write_tiny_cohort(tmp_path / "c", 6)
    df = c.clinical.copy()
    df.loc[2, "patient_id"] = df.loc[1, "patient_id"]  # duplicate id (lines 3 and 4)
    df.loc[4, "survival_time"] = -5  # negative time (line 6)
    df.loc[5, "event"] = 2  # event outside {0, 1} (line 7)
    df.to_csv(c.root / "clinical.csv", index=False)
    (c.root / "cohort.yaml").write_text(
        "name: tiny\nclinical:\n  covariates:\n    bmi: {type: numeric}\n"
    )
    stray = c.root / "ecg" / "GHOST01" / "rec.hea"
    stray.parent.mkdir(parents=True)
    stray.write_text("x")
    report = validate_cohort(c.root)
    text = "\n".join(map(str, report.problems))
    assert not report.ok
    assert "duplicate patient id 'PT0001' on lines 3, 4" in text
    assert "negative survival time on line(s) 6" in text
    assert "event not in {0, 1} on line(s) 7" in text
    assert "clinical.covariates.bmi" in text
    assert "ecg/GHOST01/rec.hea" in text and "'GHOST01'" in text


def test_missing_columns_and_times(tmp_path: Path) -> None:
    c = write_tiny_cohort(tmp_path / "c", 4)
    df = c.clinical.drop(columns=["event"])
    df.loc[0, "survival_time"] = None
    df.to_csv(c.root / "clinical.csv", index=False)
    text = "\n".join(map(str, validate_cohort(c.root).problems))
    assert "[event]: column missing" in text
    assert "missing or non-numeric survival time on line(s) 2" in text


def test_split_files_are_checked(tmp_path: Path) -> None:
    c = write_tiny_cohort(tmp_path / "c", 6)
    (c.root / "splits").mkdir()
    pd.DataFrame({"train": ["PT0000", "PT0001", "PT0002", "NOBODY"], "val": ["PT0003", "PT0004", None, None]}).to_csv(
        c.root / "splits" / "splits_0.csv"
    )
    report = validate_cohort(c.root)
    assert any("NOBODY" in str(p) and "fold 0" in str(p) for p in report.problems)


def test_missing_clinical_table(tmp_path: Path) -> None:
    (tmp_path / "cohort.yaml").write_text("name: x\n")
    report = validate_cohort(tmp_path)
    assert [p.file for p in report.problems] == ["clinical.csv"]
