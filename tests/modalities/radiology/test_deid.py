"""PS3.15 Basic Profile de-identification, tested directly on pydicom datasets."""

from __future__ import annotations

import io

import pydicom
import pytest
from clinfusion.modalities.radiology.deid import (
    basic_profile_actions,
    deidentify_dataset,
    header_summary,
    shift_date,
)
from clinfusion.privacy.keys import PseudonymKey
from clinfusion.privacy.pseudonym import Pseudonymizer
from clinfusion.testing.dicom import PLANTED_PHI, write_ct_series


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    files = write_ct_series(tmp_path_factory.mktemp("deid"), n_slices=3, rows=8, cols=8)
    return [pydicom.dcmread(f) for f in files]


@pytest.fixture(scope="module")
def pz():
    return Pseudonymizer(PseudonymKey(b"s" * 32, "test"))


def _bytes(ds) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_table_is_the_standard_not_a_handful():
    actions = basic_profile_actions()
    assert len(actions) > 400
    assert actions[0x00100010] == "Z" and actions[0x00080018] == "U" and actions[0x00080080] == "X"


def test_no_planted_phi_survives(series, pz):
    out = deidentify_dataset(series[0], pz, "PT0001")
    raw = _bytes(out)
    for s in PLANTED_PHI.strings():
        assert s.encode() not in raw, s
    assert out.PatientIdentityRemoved == "YES"
    assert out.DeidentificationMethod
    assert out.PatientID == out.PatientName == pz.patient("PT0001")
    assert series[0].PatientName == PLANTED_PHI.patient_name  # input untouched


def test_private_overlay_curve_removed_and_sequences_recursed(series, pz):
    out = deidentify_dataset(series[0], pz, "PT0001")
    groups = {e.tag.group for e in out}
    assert not any(g % 2 == 1 for g in groups)
    assert not any(0x5000 <= g <= 0x50FF or 0x6000 <= g <= 0x60FF for g in groups)
    item = out.AnatomicRegionSequence[0]
    assert item.CodeMeaning == "Chest"
    assert "ReferringPhysicianName" not in item or not item.ReferringPhysicianName
    assert "InstitutionName" not in item


def test_uids_consistent_and_dates_shifted(series, pz):
    a, b = (deidentify_dataset(ds, pz, "PT0001") for ds in series[:2])
    assert a.SeriesInstanceUID == b.SeriesInstanceUID == pz.uid(series[0].SeriesInstanceUID)
    assert a.StudyInstanceUID == pz.uid(series[0].StudyInstanceUID)
    assert a.SOPInstanceUID != b.SOPInstanceUID
    assert a.file_meta.MediaStorageSOPInstanceUID == a.SOPInstanceUID
    assert a.SOPClassUID == series[0].SOPClassUID  # registered UIDs are kept
    assert a.StudyDate == shift_date(PLANTED_PHI.study_date, pz.date_shift_days("PT0001"))
    assert a.StudyDate != PLANTED_PHI.study_date


def test_shift_date_handles_dt_and_garbage():
    assert shift_date("20200301", -1) == "20200229"
    assert shift_date("20200301120000.5", -1) == "20200229120000.5"
    assert shift_date("not a date", -3) == ""


def test_header_summary_is_json_ready(series, pz):
    import json

    summ = header_summary(deidentify_dataset(series[0], pz, "PT0001"))
    text = json.dumps(summ)
    assert "PixelData" not in summ and summ["Modality"] == "CT"
    assert PLANTED_PHI.patient_id not in text
