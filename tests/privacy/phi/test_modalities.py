"""The same PHI pipeline serves ECG header comments and free-text DICOM attributes (issue 19)."""

from __future__ import annotations

import pytest
from clinfusion.modalities.ecg.deid import scrub_comments
from clinfusion.privacy import Pseudonymizer, PseudonymKey
from clinfusion.privacy.phi import PhiPipeline

RULES = PhiPipeline(["rules"])


def test_ecg_free_text_comments_are_returned_scrubbed_only_when_asked():
    lines = ["age: 81", "sex: F", "Dx: 164889003", "Admitted to St. Anne Hospital on 2024-03-07 by Dr. Mabel Crane"]
    plain = scrub_comments(lines)
    assert "comments" not in plain and plain["comments_dropped"] == 1 and plain["age"] == 81.0
    out = scrub_comments(lines, -10, RULES)
    assert out["comments"] == ["Admitted to [INSTITUTION] on 2024-02-26 by Dr. [NAME]"]
    assert (out["age"], out["sex"], out["dx"]) == (81.0, "F", ["164889003"])


def _dataset():
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.PatientName, ds.PatientID = "Crane^Mabel", "MRN-4411"
    ds.StudyDescription = "CT chest, Dr. Mabel Crane, 2024-03-07"
    ds.ImageComments = "Seen by Dr. Mabel Crane; Parkinson disease"
    ds.Modality = "CT"
    return ds


def test_dicom_free_text_kept_by_the_profile_is_scrubbed_and_descriptors_are_retained_on_request():
    from clinfusion.modalities.radiology.deid import deidentify_dataset

    pz = Pseudonymizer(PseudonymKey(b"k" * 32, "test"))
    shift = pz.date_shift_days("MRN-4411")
    basic = deidentify_dataset(_dataset(), pz, "MRN-4411", pipeline=RULES)
    assert "StudyDescription" not in basic and "ImageComments" not in basic  # the Basic Profile removes them
    kept = deidentify_dataset(_dataset(), pz, "MRN-4411", retain_descriptors=True, pipeline=RULES)
    assert kept.ImageComments == "Seen by Dr. [NAME]; Parkinson disease"
    assert kept.StudyDescription.startswith("CT chest, Dr. [NAME], ") and "2024-03-07" not in kept.StudyDescription
    assert RULES.scrub("2024-03-07", shift).text in kept.StudyDescription  # the patient's shift, as every date
    assert kept.Modality == "CT" and kept.PatientName == pz.patient("MRN-4411")


@pytest.mark.shared_data
def test_real_ptb_header_comments_keep_no_date_and_keep_intervals():
    """PTB writes admission, infarction and catheterisation dates as ``29-Sep-90`` in its comments."""
    import datetime as dt
    import re

    from clinfusion.testing.data import shared_data_dir

    hea = shared_data_dir() / "ecg" / "ptb" / "s0010_re.hea"
    if not hea.is_file():
        pytest.skip(f"shared data absent: {hea}")
    lines = [ln[1:].strip() for ln in hea.read_text().splitlines() if ln.startswith("#")]
    out = scrub_comments(lines, -10)
    text = "\n".join(out["comments"])
    for raw in ("29-Sep-90", "16-Oct-90", "01/10/1990"):
        assert raw in "\n".join(lines) and raw not in text
    infarct = re.search(r"Infarction date \(acute\): (\S+)", text).group(1)
    cath = re.search(r"Catheterization date: (\S+)", text).group(1)
    days = (dt.datetime.strptime(cath, "%d-%b-%y") - dt.datetime.strptime(infarct, "%d-%b-%y")).days
    assert days == 17  # 29-Sep-90 -> 16-Oct-90, as in the original
    assert "Myocardial infarction" in text and out["age"] == 81.0


def test_ecg_ingest_stores_scrubbed_comments_only_with_keep_comments(tmp_path):
    import json

    from clinfusion.ingest import ingest
    from clinfusion.testing import write_tiny_cohort
    from clinfusion.testing.ecg import synthetic_ecg, write_wfdb
    from clinfusion.workspace import read_catalog

    leads = ("I", "II")
    for keep in (False, True):
        spec = {"modalities": {"ecg": {"options": {"keep_comments": keep}}}}
        cohort = write_tiny_cohort(tmp_path / f"c{keep}", n_patients=1, spec=spec)
        sig = synthetic_ecg(10.0, 500.0)[:, :2]
        write_wfdb(cohort.root / "ecg" / cohort.patients[0], "rec", sig, 500.0, leads,
                   comments=["age: 70", "Seen at Wrenfield General Hospital by Dr. Mabel Crane on 2024-03-07"])
        ws = ingest(cohort.root, tmp_path / f"ws{keep}", demo=True).workspace
        row = read_catalog(ws).query("modality == 'ecg'").iloc[0]
        meta = json.loads(row["meta_json"])
        assert ("comments" in meta) is keep
        if keep:
            assert meta["comments"][0].startswith("Seen at [INSTITUTION] by Dr. [NAME] on ")
            assert "2024-03-07" not in meta["comments"][0] and "Crane" not in json.dumps(meta)
