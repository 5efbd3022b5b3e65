"""The CLI end to end through clinfusion.cli.main (exit codes and messages)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from clinfusion.cli import main
from clinfusion.testing import write_tiny_cohort


def test_validate_ok_and_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    c = write_tiny_cohort(tmp_path / "c", 5)
    assert main(["validate", str(c.root)]) == 0
    assert "5 patients" in capsys.readouterr().out
    df = c.clinical.copy()
    df.loc[1, "patient_id"] = df.loc[0, "patient_id"]
    df.loc[3, "survival_time"] = -1
    df.to_csv(c.root / "clinical.csv", index=False)
    (c.root / "radiology" / "UNKNOWN9").mkdir(parents=True)
    (c.root / "radiology" / "UNKNOWN9" / "x.dcm").write_bytes(b"x")
    assert main(["validate", str(c.root)]) == 1
    err = capsys.readouterr().err
    assert "3 problem(s)" in err
    assert "duplicate patient id" in err and "negative survival time" in err and "UNKNOWN9" in err
    assert "Traceback" not in err


def test_ingest_catalog_export(tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_modality: str) -> None:
    c = write_tiny_cohort(tmp_path / "c", 3)
    (c.root / "ecg" / c.patients[0]).mkdir(parents=True)
    (c.root / "ecg" / c.patients[0] / "a.txt").write_text("BAD")
    ws = tmp_path / "ws"
    assert main(["ingest", str(c.root), "--workspace", str(ws)]) == 2
    assert "1 item(s)/file(s) quarantined" in capsys.readouterr().err
    assert main(["catalog", str(ws), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {m["modality"]: m["quarantined"] for m in out["modalities"]} == {"clinical": 0, "ecg": 1}
    assert "content is BAD" in out["quarantine"][0]["reason"]
    assert "a.txt" not in json.dumps(out)
    assert main(["catalog", str(ws), "--json", "--cohort", str(c.root)]) == 0
    assert out_path(capsys) == f"ecg/{c.patients[0]}/a.txt"
    assert main(["export", str(ws), "--modality", "clinical", "--out", str(tmp_path / "c.parquet")]) == 0
    assert len(pd.read_parquet(tmp_path / "c.parquet")) == 3
    assert main(["export", str(ws), "--modality", "clinical", "--out", str(tmp_path / "c.txt")]) == 1
    assert "csv or .parquet" in capsys.readouterr().err
    assert main(["export", str(ws), "--modality", "ecg", "--out", str(tmp_path / "e.csv")]) == 1
    assert "no ingested ecg items" in capsys.readouterr().err


def out_path(capsys: pytest.CaptureFixture[str]) -> str:
    return json.loads(capsys.readouterr().out)["quarantine"][0]["path"]


def test_usage_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 1
    assert main(["ingest", str(tmp_path)]) == 1  # missing --workspace
    assert main(["catalog", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "not a ClinFusion workspace" in err and "Traceback" not in err


def test_debug_shows_traceback(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not a ClinFusion workspace"):
        main(["catalog", str(tmp_path), "--debug"])
