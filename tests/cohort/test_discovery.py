from __future__ import annotations

from pathlib import Path

import pytest
from clinfusion.cohort.discovery import discover_files
from clinfusion.cohort.spec import parse_cohort_spec
from clinfusion.errors import CohortSpecError


def _touch(root: Path, *rels: str) -> None:
    for rel in rels:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")


def test_default_patterns_find_files_at_any_depth(tmp_path: Path) -> None:
    _touch(tmp_path, "radiology/P1/study/series/IM0001", "radiology/P1/a.dcm", "radiology/P2/x.dcm",
           "radiology/P2/.hidden", "radiology/.DS_Store", "genomics/expr.tsv", "genomics/sub/cnv.tsv",
           "reports/P1/r.txt", "reports/reports.csv", "ecg/P3/rec.hea", "unrelated.txt")
    spec = parse_cohort_spec({"name": "c"}, root=tmp_path)
    found = {(f.modality, f.rel, f.patient_id) for f in discover_files(spec)}
    assert found == {
        ("radiology", "radiology/P1/study/series/IM0001", "P1"),
        ("radiology", "radiology/P1/a.dcm", "P1"),
        ("radiology", "radiology/P2/x.dcm", "P2"),
        ("genomics", "genomics/expr.tsv", None),
        ("genomics", "genomics/sub/cnv.tsv", None),
        ("reports", "reports/P1/r.txt", "P1"),
        ("reports", "reports/reports.csv", None),
        ("ecg", "ecg/P3/rec.hea", "P3"),
    }


def test_patient_id_inside_a_file_name(tmp_path: Path) -> None:
    _touch(tmp_path, "signals/ecg_P7_rest.hea", "signals/ecg_P8_rest.hea", "signals/other.hea")
    spec = parse_cohort_spec({"name": "c", "modalities": {"ecg": {"paths": ["signals/ecg_{patient_id}_rest.hea"]}}}, root=tmp_path)
    found = [(f.rel, f.patient_id) for f in discover_files(spec, ["ecg"])]
    assert found == [("signals/ecg_P7_rest.hea", "P7"), ("signals/ecg_P8_rest.hea", "P8")]


def test_masked_rel_hides_the_raw_id(tmp_path: Path) -> None:
    _touch(tmp_path, "reports/MRN12345/MRN12345_note.txt")
    spec = parse_cohort_spec({"name": "c"}, root=tmp_path)
    (f,) = discover_files(spec, ["reports"])
    assert f.masked_rel("Pabc") == "reports/Pabc/Pabc_note.txt"


def test_globstar_before_placeholder_is_an_error(tmp_path: Path) -> None:
    spec = parse_cohort_spec({"name": "c", "modalities": {"ecg": {"paths": ["**/{patient_id}/*.hea"]}}}, root=tmp_path)
    with pytest.raises(CohortSpecError, match=r"\*\*"):
        discover_files(spec, ["ecg"])
