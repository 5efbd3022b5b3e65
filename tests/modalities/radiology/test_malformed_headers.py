"""Malformed headers get specific reasons, per file, and never an "unexpected ..." one."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from clinfusion.cohort.discovery import DiscoveredFile
from clinfusion.ingest import ingest
from clinfusion.modalities.radiology.discover import scan_files
from clinfusion.modalities.radiology.header import header_problem
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.dicom import write_ct_series
from clinfusion.testing.dicom_malformed import CASES, write_malformed
from clinfusion.workspace import Workspace, read_catalog


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    base = tmp_path_factory.mktemp("mal")
    good = write_ct_series(base / "good", n_slices=3, rows=16, cols=16)
    return good, write_malformed(good[0], base / "bad")


@pytest.mark.parametrize("case", list(CASES))
def test_each_case_has_its_reason(broken, case):
    _, paths = broken
    f = DiscoveredFile("radiology", f"radiology/P/{case}.dcm", "P", paths[case])
    scan = scan_files([f], lambda d: d.rel)
    assert not scan.dicoms
    assert CASES[case] in scan.rejected[f.rel], scan.rejected[f.rel]


def test_valid_file_has_no_problem(broken):
    import pydicom

    good, _ = broken
    assert header_problem(pydicom.dcmread(good[0])) == ""
    f = DiscoveredFile("radiology", "radiology/P/g.dcm", "P", good[0])
    assert scan_files([f], lambda d: d.rel).rejected == {}


def test_text_values_are_not_echoed(tmp_path):
    import pydicom
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    src = write_ct_series(tmp_path / "s", n_slices=1, rows=8, cols=8)[0]
    ds = pydicom.dcmread(src)
    ds[0x00281053] = RawDataElement(Tag(0x00281053), "DS", 12, b"MRN80417733 ", 0, False, True)
    pydicom.dcmwrite(tmp_path / "x.dcm", ds, enforce_file_format=True)
    reason = header_problem(pydicom.dcmread(tmp_path / "x.dcm"))
    assert reason.startswith("invalid RescaleSlope (0028,1053)") and "MRN" not in reason


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, broken):
    import shutil

    good, paths = broken
    base = tmp_path_factory.mktemp("malingest")
    cohort = write_tiny_cohort(base / "cohort", n_patients=2, spec={"limits": {"item_seconds": None}})
    only_bad, mixed = cohort.patients
    (cohort.root / "radiology" / only_bad).mkdir(parents=True)
    for p in paths.values():
        shutil.copy(p, cohort.root / "radiology" / only_bad / p.name)
    write_ct_series(cohort.root / "radiology" / mixed / "ct", n_slices=3, rows=16, cols=16)
    for name in ("rescale_slope_text", "pixel_data_too_long"):
        shutil.copy(paths[name], cohort.root / "radiology" / mixed / "ct" / f"{name}.dcm")
    ws = base / "ws"
    ingest(cohort.root, ws, demo=True)
    return Workspace.open(ws)


def test_quarantined_item_lists_every_file_with_its_own_reason(ingested):
    q = pd.read_csv(ingested.quarantine_path)
    cat = read_catalog(ingested)
    rad = cat[cat.modality == "radiology"]
    bad = rad[rad.status == "quarantined"].iloc[0]
    rows = q[(q.modality == "radiology") & (q.patient_id == bad.patient_id)]
    assert bad.n_files == len(CASES)
    assert len(rows) == len(CASES), rows  # the item row (its primary file) plus one per other file
    others = json.loads(bad.rejected_json)
    assert len(others) == len(CASES) - 1
    phrases = list(CASES.values())
    for reason in others.values():
        assert any(p in reason for p in phrases), reason
        assert not reason.startswith("not read")
    assert len(set(others.values())) == len(others)  # each file its own reason, not a copy of the item's
    assert not any(str(r).startswith("unexpected") for r in q.reason)


def test_good_series_kept_bad_files_rejected(ingested):
    cat = read_catalog(ingested)
    rad = cat[cat.modality == "radiology"]
    ok = rad[rad.status == "ingested"].iloc[0]
    rej = json.loads(ok.rejected_json)
    assert len(rej) == 2
    assert sorted(r.split(":")[0] for r in rej.values()) == ["invalid RescaleSlope (0028,1053)",
                                                             "pixel data length mismatch in PixelData (7FE0,0010)"]
    assert json.loads(ok.meta_json)["series"][0]["shape"] == [3, 16, 16]


def test_bad_functional_group_value_is_a_series_reason(tmp_path):
    import pydicom
    from clinfusion.testing.dicom import write_enhanced_ct
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    cohort = write_tiny_cohort(tmp_path / "cohort", n_patients=1, spec={"limits": {"item_seconds": None}})
    path = write_enhanced_ct(cohort.root / "radiology" / cohort.patients[0] / "mf.dcm", n_frames=3, rows=8, cols=8)
    ds = pydicom.dcmread(path)
    pos = ds.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0]
    pos[0x00200032] = RawDataElement(Tag(0x00200032), "DS", 6, b"x\\y\\z ", 0, False, True)
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    ingest(cohort.root, tmp_path / "ws", demo=True)
    cat = read_catalog(Workspace.open(tmp_path / "ws"))
    row = cat[cat.modality == "radiology"].iloc[0]
    assert row.status == "quarantined"
    assert "invalid ImageOrientationPatient, ImagePositionPatient" in row.reason and "frame 2/3" in row.reason
    assert not row.reason.startswith("unexpected")
