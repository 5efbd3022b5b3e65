"""The hospital-side operator maps a stored de-identified header back to the original instance."""

from __future__ import annotations

import json

import pydicom
import pytest
from clinfusion.cohort.spec import load_cohort_spec
from clinfusion.errors import ConfigError
from clinfusion.ingest import ingest
from clinfusion.pacs.reidentify import original_reference
from clinfusion.privacy import Pseudonymizer, load_key
from clinfusion.testing.pacs_cohort import write_dicomweb_cohort, write_pacs_cohort


def _headers(ws):
    return [json.loads(p.read_text()) for p in sorted(ws.glob("artifacts/radiology/*/*/series_*.json"))]


@pytest.mark.parametrize("source", ["files", "dicomweb"])
def test_original_reference(tmp_path, orthanc, source):
    pc = write_pacs_cohort(tmp_path, n_patients=2, n_imaged=1, scout_every=0, id_prefix=f"RI{source[0].upper()}")
    cohort = pc.files_cohort.root
    if source == "dicomweb":
        orthanc.upload(pc.all_files())
        cohort = write_dicomweb_cohort(pc.files_cohort, tmp_path / "web", orthanc.dicomweb_url)
    ws = tmp_path / "ws"
    ingest(cohort, ws)
    (header,) = _headers(ws)
    ref = original_reference(load_cohort_spec(cohort), Pseudonymizer(load_key(ws)), header)
    originals = {str(pydicom.dcmread(f).SOPInstanceUID): pydicom.dcmread(f) for f in pc.all_files()}
    orig = originals[str(ref.SOPInstanceUID)]
    assert ref.StudyInstanceUID == orig.StudyInstanceUID != header["StudyInstanceUID"]
    assert ref.PatientID == next(iter(pc.files)) and str(ref.PatientName) == str(orig.PatientName)
    with pytest.raises(ConfigError, match="pseudonym"):
        original_reference(load_cohort_spec(cohort), Pseudonymizer(load_key(ws)), {**header, "PatientID": "Pnobody"})
