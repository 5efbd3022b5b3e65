"""The same PHI pipeline serves ECG header comments and free-text DICOM attributes (issue 19)."""

from __future__ import annotations

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
