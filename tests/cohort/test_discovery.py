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


def test_masked_path_hides_ids_and_file_names(tmp_path: Path) -> None:
    from clinfusion.privacy import Pseudonymizer, load_key
    from clinfusion.privacy.paths import extension, mask_path

    _touch(tmp_path, "reports/MRN12345/Smith_John/MRN12345_note.txt", "signals/ecg_MRN777_rest.hea", "genomics/expr.tsv")
    spec = parse_cohort_spec({"name": "c", "modalities": {"ecg": {"paths": ["signals/ecg_{patient_id}_rest.hea"]}}},
                             root=tmp_path)
    pz = Pseudonymizer(load_key())
    masked = {f.rel: mask_path(f, pz) for f in discover_files(spec)}
    note = masked["reports/MRN12345/Smith_John/MRN12345_note.txt"]
    assert note.startswith(f"reports/{pz.patient('MRN12345')}/f") and note.endswith(".txt")
    assert "MRN" not in note and "Smith" not in note
    hea = masked["signals/ecg_MRN777_rest.hea"]
    assert hea.startswith("signals/f") and hea.endswith(".hea") and "MRN777" not in hea
    assert masked["genomics/expr.tsv"] == "genomics/expr.tsv"
    assert extension("1.2.840.10008.5.1.dcm") == ".dcm"
    assert extension("IM0001") == ""
    assert extension("vol.nii.gz") == ".nii.gz"


def test_globstar_before_placeholder_is_an_error(tmp_path: Path) -> None:
    spec = parse_cohort_spec({"name": "c", "modalities": {"ecg": {"paths": ["**/{patient_id}/*.hea"]}}}, root=tmp_path)
    with pytest.raises(CohortSpecError, match=r"\*\*"):
        discover_files(spec, ["ecg"])
