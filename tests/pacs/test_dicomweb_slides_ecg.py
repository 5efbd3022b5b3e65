"""Pathology (DICOM-WSI) and ECG (DICOM waveforms) from a real Orthanc over DICOMweb, by SOP class.

Each equals a file-based ingest of the same files (catalog rows and every artifact byte); slide label
images are never retrieved; reruns retrieve only new instances; a failed retrieval is quarantined
with the HTTP status; no raw identifier reaches the workspace.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pydicom
import pytest
import yaml
from clinfusion.ingest import ingest
from clinfusion.pacs.source import FETCH_FAILED
from clinfusion.testing.pacs_slides_ecg import (
    WSI_FILE,
    slide_source,
    write_remote_cohort,
    write_slide_ecg_cohort,
)
from clinfusion.workspace import Workspace, read_catalog

pytestmark = [pytest.mark.filterwarnings("ignore:The value length"),  # pydicom's waveform_ecg.dcm: 65-char UIDs
              pytest.mark.filterwarnings("ignore:The PN component length")]

LOCATION_COLUMNS = ["item_id", "source", "files_json", "ingested_at", "sha256", "artifact_dir", "rejected_json"]
"""Where an item came from and when: the only columns allowed to differ."""
REMOTE = ("pathology", "ecg")


@pytest.fixture(scope="module")
def both(orthanc, tmp_path_factory):
    if slide_source() is None:
        pytest.skip(f"shared data {WSI_FILE} absent (CLINFUSION_SHARED_DATA)")
    base = tmp_path_factory.mktemp("dw_slides_ecg")
    sc = write_slide_ecg_cohort(base, n_patients=3, n_slides=1, n_ecgs=2)
    orthanc.upload(sc.all_files())
    web = write_remote_cohort(sc.files_cohort, base / "web", {m: {"url": orthanc.dicomweb_url} for m in REMOTE})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ingest(sc.files_cohort.root, base / "ws_files")
        ingest(web, base / "ws_web")
    return sc, web, Workspace.open(base / "ws_files"), Workspace.open(base / "ws_web")


def _rows(ws, modality):
    cat = read_catalog(ws)
    return cat[cat.modality == modality].sort_values("patient_id").reset_index(drop=True)


def test_cohort_yaml_is_exactly_the_documented_form(both):
    _, web, *_ = both
    mods = yaml.safe_load((web / "cohort.yaml").read_text())["modalities"]
    url = mods["ecg"]["dicomweb"]["url"]
    assert mods == {"pathology": {"source": "dicomweb", "dicomweb": {"url": url}, "options": {"tiling": {"target_mpp": 8.0}}},
                    "ecg": {"source": "dicomweb", "dicomweb": {"url": url}}}


@pytest.mark.parametrize("modality", REMOTE)
def test_catalog_rows_equal_file_ingest(both, modality):
    sc, _, ws_files, ws_web = both
    a, b = _rows(ws_files, modality), _rows(ws_web, modality)
    expected = sc.slides if modality == "pathology" else sc.ecgs
    assert len(a) == len(expected) and (a.status == "ingested").all()
    skip = LOCATION_COLUMNS + (["n_files", "size_bytes"] if modality == "pathology" else [])
    a, b = a.drop(columns=skip), b.drop(columns=skip)
    if modality == "ecg":  # the record name is the keyed token of the item's location (file or server path)
        metas = [[json.loads(m) for m in t.meta_json] for t in (a, b)]
        assert all(x.pop("record") != y.pop("record") for x, y in zip(*metas, strict=True))
        a, b = (t.assign(meta_json=[json.dumps(m, sort_keys=True) for m in ms]) for t, ms in zip((a, b), metas, strict=True))
    pd.testing.assert_frame_equal(a, b)
    assert all(s.startswith("dicomweb/P") for s in _rows(ws_web, modality).source)


def test_slide_label_never_retrieved(both):
    """The file ingest lists the label instance as dropped; over DICOMweb it is not even retrieved."""
    sc, _, ws_files, ws_web = both
    a, b = _rows(ws_files, "pathology"), _rows(ws_web, "pathology")
    assert list(a.n_files) == [2] and list(b.n_files) == [1]
    assert list(a.size_bytes) == [sum(f.stat().st_size for f in next(iter(sc.slides.values())))]
    assert b.size_bytes[0] == pytest.approx(a.size_bytes[0] / 2, rel=0.01)  # the label is a full copy of the slide
    assert "LABEL" in json.loads(a.rejected_json[0]).popitem()[1] and json.loads(b.rejected_json[0]) == {}


@pytest.mark.parametrize("modality", REMOTE)
def test_artifacts_identical(both, modality):
    _, _, ws_files, ws_web = both
    a, b = _rows(ws_files, modality), _rows(ws_web, modality)
    for da, db in zip(a.artifact_dir, b.artifact_dir, strict=True):
        fa = sorted(p.relative_to(ws_files.root / da) for p in (ws_files.root / da).rglob("*") if p.is_file())
        fb = sorted(p.relative_to(ws_web.root / db) for p in (ws_web.root / db).rglob("*") if p.is_file())
        assert fa == fb and fa
        for rel in fa:
            assert (ws_files.root / da / rel).read_bytes() == (ws_web.root / db / rel).read_bytes(), rel
    if modality == "pathology":
        feats = np.load(ws_web.root / b.artifact_dir[0] / "features.npy")
        assert feats.ndim == 2 and len(feats) >= 5 and np.isfinite(feats).all()


def test_no_raw_identifier_in_workspace(both):
    sc, _, _, ws_web = both
    needles = {p.encode() for p in sc.files_cohort.patients} | {b"Doe^"}
    for f in sc.all_files():
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        needles |= {str(ds.StudyInstanceUID).encode(), str(ds.SeriesInstanceUID).encode(), str(ds.SOPInstanceUID).encode()}
    for path in ws_web.root.rglob("*"):
        if path.is_file() and ".secrets" not in path.parts:
            data = path.read_bytes()
            hits = [n for n in needles if n in data]
            assert not hits, (path, hits[:3])


@pytest.fixture
def counting(monkeypatch):
    """SOP Instance UIDs of WADO-RS retrievals (ingest in-process: ``limits.item_seconds: null``)."""
    from dicomweb_client.api import DICOMwebClient

    calls = []
    real = DICOMwebClient.retrieve_instance

    def spy(self, *args, **kwargs):
        calls.append(args[2] if len(args) > 2 else kwargs.get("sop_instance_uid"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DICOMwebClient, "retrieve_instance", spy)
    return calls


def _sop(f):
    return str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID)


def test_ecg_rerun_retrieves_only_new_waveforms_and_never_other_sop_classes(orthanc, tmp_path, counting):
    """Only ECG waveforms are the ecg modality's: a CT in the same server is not retrieved for it."""
    from clinfusion.testing.dicom import PLANTED_PHI, write_ct_series
    from clinfusion.testing.pacs_slides_ecg import copy_with_ids
    from pydicom.uid import generate_uid

    sc = write_slide_ecg_cohort(tmp_path, n_patients=2, n_slides=0, n_ecgs=1, id_prefix="ER")
    pid = next(iter(sc.ecgs))
    first_ecg = sc.ecgs[pid][0]
    study = str(pydicom.dcmread(first_ecg, stop_before_pixels=True).StudyInstanceUID)
    import dataclasses

    ct = write_ct_series(tmp_path / "ct", n_slices=2, rows=8, cols=8, phi=dataclasses.replace(PLANTED_PHI, patient_id=pid),
                         study_uid=study)
    orthanc.upload([*sc.all_files(), *ct])
    web = write_remote_cohort(sc.files_cohort, tmp_path / "web", {"ecg": {"url": orthanc.dicomweb_url}})
    ws = tmp_path / "ws"
    first = ingest(web, ws)
    assert counting == [_sop(first_ecg)] and first.processed == 2  # clinical + the one ECG
    counting.clear()
    assert ingest(web, ws).processed == 0 and counting == []
    second = copy_with_ids(first_ecg, tmp_path / "ecg2.dcm", pid, study, generate_uid())
    orthanc.upload([second])
    third = ingest(web, ws)
    assert counting == [_sop(second)] and third.processed == 1
    ecg = _rows(Workspace.open(ws), "ecg")
    assert len(ecg) == 2 and (ecg.status == "ingested").all()


def test_ecg_retrieval_error_quarantined_with_status_then_retried(orthanc, tmp_path, monkeypatch):
    import requests
    from dicomweb_client.api import DICOMwebClient

    sc = write_slide_ecg_cohort(tmp_path, n_patients=2, n_slides=0, n_ecgs=1, id_prefix="EQ")
    orthanc.upload(sc.all_files())
    web = write_remote_cohort(sc.files_cohort, tmp_path / "web", {"ecg": {"url": orthanc.dicomweb_url, "retries": 3,
                                                                          "backoff_s": 0}})
    attempts = []

    def gone(self, *args, **kwargs):
        attempts.append(1)
        response = requests.Response()
        response.status_code = 404
        raise requests.HTTPError("404 Not Found", response=response)

    real = DICOMwebClient.retrieve_instance
    monkeypatch.setattr(DICOMwebClient, "retrieve_instance", gone)
    ws = tmp_path / "ws"
    ingest(web, ws)
    assert len(attempts) == 1  # a 4xx is not retried
    row = _rows(Workspace.open(ws), "ecg").iloc[0]
    assert row.status == "quarantined" and FETCH_FAILED in row.reason and "HTTP 404" in row.reason
    assert not (Workspace.open(ws).root / "artifacts" / "ecg").exists() or not any(
        (Workspace.open(ws).root / "artifacts" / "ecg").rglob("*.npz"))
    monkeypatch.setattr(DICOMwebClient, "retrieve_instance", real)
    ingest(web, ws)
    assert _rows(Workspace.open(ws), "ecg").iloc[0].status == "ingested"
