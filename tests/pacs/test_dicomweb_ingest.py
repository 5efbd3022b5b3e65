"""Radiology from a real Orthanc over DICOMweb equals a file-based ingest of the same files.

Also: reruns retrieve only instances not yet in the catalog, failures are retried and then
quarantined with the HTTP status (nothing half-written), and no raw identifier reaches the workspace.
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pydicom
import pytest
import yaml
from clinfusion.ingest import ingest
from clinfusion.modalities.radiology.read import series_paths
from clinfusion.pacs.source import FETCH_FAILED
from clinfusion.testing.dicom import PLANTED_PHI, write_ct_series
from clinfusion.testing.pacs_cohort import write_dicomweb_cohort, write_pacs_cohort
from clinfusion.workspace import Workspace, read_catalog

LOCATION_COLUMNS = ["item_id", "source", "files_json", "ingested_at", "sha256", "artifact_dir", "rejected_json"]
"""Where an item came from (path or server) and when: the only columns allowed to differ (the keys of
rejected_json are member locations; its reasons are compared)."""


@pytest.fixture(scope="module")
def both(orthanc, tmp_path_factory):
    base = tmp_path_factory.mktemp("dw")
    pc = write_pacs_cohort(base, n_patients=4)
    orthanc.upload(pc.all_files())
    web = write_dicomweb_cohort(pc.files_cohort, base / "web", orthanc.dicomweb_url)
    ingest(pc.files_cohort.root, base / "ws_files")
    report = ingest(web, base / "ws_web")
    return pc, web, Workspace.open(base / "ws_files"), Workspace.open(base / "ws_web"), report


def _rad(ws):
    cat = read_catalog(ws)
    return cat[cat.modality == "radiology"].sort_values("patient_id").reset_index(drop=True)


def test_minimal_cohort_yaml_is_exactly_the_documented_form(both):
    _, web, *_ = both
    data = yaml.safe_load((web / "cohort.yaml").read_text())
    assert data["modalities"] == {"radiology": {"source": "dicomweb", "dicomweb": {"url": data["modalities"]["radiology"]["dicomweb"]["url"]}}}


def test_catalog_rows_equal_file_ingest(both):
    pc, _, ws_files, ws_web, _ = both
    a, b = _rad(ws_files), _rad(ws_web)
    assert len(a) == len(pc.files) == 3 and (a.status == "ingested").all()
    pd.testing.assert_frame_equal(a.drop(columns=LOCATION_COLUMNS), b.drop(columns=LOCATION_COLUMNS))
    reasons = [[sorted(json.loads(r).values()) for r in t.rejected_json] for t in (a, b)]
    assert reasons[0] == reasons[1] and any(reasons[0])
    assert all(s.startswith("dicomweb/P") for s in b.source)
    meta = json.loads(b.meta_json[0])
    assert all(s["study_uid"].startswith("2.25.") for s in meta["series"])


def test_volumes_and_headers_identical(both):
    _, _, ws_files, ws_web, _ = both
    for (_, ra), (_, rb) in zip(_rad(ws_files).iterrows(), _rad(ws_web).iterrows(), strict=True):
        sa, sb = series_paths(ws_files.root, ra), series_paths(ws_web.root, rb)
        assert len(sa) == len(sb) >= 1
        for (_, pa, reca), (_, pb, recb) in zip(sa, sb, strict=True):
            va, vb = nib.load(pa), nib.load(pb)
            np.testing.assert_array_equal(np.asarray(va.dataobj), np.asarray(vb.dataobj))
            np.testing.assert_array_equal(va.affine, vb.affine)
            ha = (pa.parent / reca["header"]).read_text()
            assert ha == (pb.parent / recb["header"]).read_text()


def test_no_raw_identifier_in_workspace(both):
    pc, _, _, ws_web, _ = both
    needles = {s.encode() for s in PLANTED_PHI.strings()} | {p.encode() for p in pc.files_cohort.patients}
    for f in pc.all_files():
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        needles |= {str(ds.StudyInstanceUID).encode(), str(ds.SeriesInstanceUID).encode(), str(ds.SOPInstanceUID).encode()}
    for path in ws_web.root.rglob("*"):
        if path.is_file() and ".secrets" not in path.parts:
            data = path.read_bytes()
            hits = [n for n in needles if n in data]
            assert not hits, (path, hits[:3])


@pytest.fixture
def counting(monkeypatch):
    """Counts WADO-RS instance retrievals (ingest in-process: ``limits.item_seconds: null``)."""
    from dicomweb_client.api import DICOMwebClient

    calls = []
    real = DICOMwebClient.retrieve_instance

    def spy(self, *args, **kwargs):
        calls.append(args[2] if len(args) > 2 else kwargs.get("sop_instance_uid"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DICOMwebClient, "retrieve_instance", spy)
    return calls


def _web_cohort(orthanc, pc, root, **extra):
    return write_dicomweb_cohort(pc.files_cohort, root, orthanc.dicomweb_url,
                                 {"limits": {"item_seconds": None}, **extra})


def test_rerun_retrieves_only_new_instances(orthanc, tmp_path, counting):
    pc = write_pacs_cohort(tmp_path, n_patients=3, n_imaged=1, scout_every=0, id_prefix="RR")
    orthanc.upload(pc.all_files())
    web = _web_cohort(orthanc, pc, tmp_path / "web")
    first = ingest(web, tmp_path / "ws")
    assert len(counting) == 4 and first.processed >= 1
    counting.clear()
    again = ingest(web, tmp_path / "ws")
    assert counting == [] and again.processed == 0
    # a new study of the known patient: only its instances are retrieved, the old study is reused
    import dataclasses

    pid = next(iter(pc.files))
    new = write_ct_series(tmp_path / "new", n_slices=3, rows=16, cols=16,
                          phi=dataclasses.replace(PLANTED_PHI, patient_id=pid))
    orthanc.upload(new)
    third = ingest(web, tmp_path / "ws")
    assert sorted(counting) == sorted(str(pydicom.dcmread(f).SOPInstanceUID) for f in new)
    assert third.processed == 1
    rad = _rad(Workspace.open(tmp_path / "ws"))
    assert len(rad) == 2 and (rad.status == "ingested").all()
    # an SR stored into a known study (e.g. by export-sr --stow) is not radiology: nothing is retrieved
    from clinfusion.pacs.sr import SrPrediction, prediction_sr, reference_dataset
    from pydicom.uid import generate_uid

    image = pydicom.dcmread(new[0], stop_before_pixels=True)
    ref = reference_dataset({k: str(image.get(k, "")) for k in ("PatientID", "PatientName", "StudyInstanceUID",
                                                                "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID",
                                                                "StudyDate", "Modality")})
    sr = prediction_sr(ref, SrPrediction(0.1, 50.0, "intermediate", "final model", "m v1"), series_uid=generate_uid(),
                       sop_uid=generate_uid())
    sr_file = tmp_path / "sr.dcm"
    sr.save_as(sr_file, enforce_file_format=True)
    orthanc.upload([sr_file])
    counting.clear()
    fourth = ingest(web, tmp_path / "ws")
    assert counting == [] and fourth.processed == 0


def test_server_errors_retried_then_quarantined_with_status(orthanc, tmp_path, monkeypatch):
    import requests
    from dicomweb_client.api import DICOMwebClient

    pc = write_pacs_cohort(tmp_path, n_patients=2, n_imaged=1, scout_every=0, id_prefix="SE")
    orthanc.upload(pc.all_files())
    web = _web_cohort(orthanc, pc, tmp_path / "web")
    spec = yaml.safe_load((web / "cohort.yaml").read_text())
    spec["modalities"]["radiology"]["dicomweb"].update(retries=2, backoff_s=0)
    (web / "cohort.yaml").write_text(yaml.safe_dump(spec))
    attempts = []

    def unavailable(self, *args, **kwargs):
        attempts.append(1)
        response = requests.Response()
        response.status_code = 503
        raise requests.HTTPError("503 Service Unavailable", response=response)

    real = DICOMwebClient.retrieve_instance
    monkeypatch.setattr(DICOMwebClient, "retrieve_instance", unavailable)
    ws = tmp_path / "ws"
    ingest(web, ws)
    assert len(attempts) == 2  # bounded: `retries` attempts for the first instance, then the item stops
    row = _rad(Workspace.open(ws)).iloc[0]
    assert row.status == "quarantined" and FETCH_FAILED in row.reason and "HTTP 503 after 2 attempt(s)" in row.reason
    assert not (Workspace.open(ws).root / "artifacts" / "radiology").exists() or not any(
        (Workspace.open(ws).root / "artifacts" / "radiology").rglob("*.nii.gz"))
    q = pd.read_csv(Workspace.open(ws).quarantine_path)
    assert (q.reason.str.contains("HTTP 503")).sum() == 4  # every member instance listed
    monkeypatch.setattr(DICOMwebClient, "retrieve_instance", real)
    ingest(web, ws)  # the failed item is retried on the next run
    assert _rad(Workspace.open(ws)).iloc[0].status == "ingested"


def test_unreachable_server_keeps_earlier_items(orthanc, tmp_path):
    from clinfusion.testing.orthanc import free_port

    pc = write_pacs_cohort(tmp_path, n_patients=2, n_imaged=1, scout_every=0, id_prefix="UN")
    orthanc.upload(pc.all_files())
    web = _web_cohort(orthanc, pc, tmp_path / "web")
    ws = tmp_path / "ws"
    ingest(web, ws)
    spec = yaml.safe_load((web / "cohort.yaml").read_text())
    spec["modalities"]["radiology"]["dicomweb"].update(url=f"http://127.0.0.1:{free_port()}/dicom-web", retries=2,
                                                       backoff_s=0)
    (web / "cohort.yaml").write_text(yaml.safe_dump(spec))
    ingest(web, ws)
    rad = _rad(Workspace.open(ws))
    assert sorted(rad.status) == ["ingested", "quarantined", "quarantined"]  # both patients' searches failed
    failed = rad[rad.status == "quarantined"]
    assert failed.reason.str.contains("QIDO-RS study search failed: network error").all()
    assert not failed.reason.str.contains("127.0.0.1").any()
