"""Acceptance on the real shared CT/MR/CR files, and PHI search on the synthetic cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydicom
import pytest
from clinfusion.cohort.discovery import DiscoveredFile
from clinfusion.modalities.base import IngestContext, Item
from clinfusion.modalities.radiology.discover import scan_files
from clinfusion.modalities.radiology.nifti import read_nifti
from clinfusion.modalities.radiology.read import RadiologyReader
from clinfusion.modalities.radiology.series import RadiologyOptions
from clinfusion.modalities.radiology.volume import assemble, dataset_frames
from clinfusion.privacy.keys import PseudonymKey
from clinfusion.privacy.pseudonym import Pseudonymizer
from clinfusion.testing import requires_shared_data, shared_data_dir


def _frames(folder):
    files = [DiscoveredFile("radiology", p.name, "X", p) for p in sorted(folder.iterdir()) if p.is_file()]
    scan = scan_files(files, lambda f: f.rel)
    return [fr for d in scan.dicoms for fr in dataset_frames(d.ds, d.label)], scan


@requires_shared_data("radiology/ct_lung_dx_A0001")
def test_real_ct_volume(tmp_path):
    folder = shared_data_dir() / "radiology/ct_lung_dx_A0001"
    frames, _ = _frames(folder)
    vol, failed = assemble(frames, "CT")
    assert not failed and vol.shape == (64, 512, 512)
    assert vol.spacing_mm[0] == pytest.approx(5.0)
    assert vol.array.min() == -1024 and vol.array.max() > 1000
    first = min((pydicom.dcmread(p, stop_before_pixels=True) for p in folder.glob("*.dcm")),
                key=lambda d: float(d.ImagePositionPatient[2]))
    lps0 = np.array([float(v) for v in first.ImagePositionPatient])
    np.testing.assert_allclose(vol.affine[:3, 3], lps0 * [-1, -1, 1], atol=1e-4)
    assert np.diag(vol.affine)[:3] == pytest.approx([-float(first.PixelSpacing[1]), -float(first.PixelSpacing[0]), 5.0])


@requires_shared_data("radiology/mr_t1_sag_volunteer")
def test_real_mr_spacing():
    vol, _ = assemble(_frames(shared_data_dir() / "radiology/mr_t1_sag_volunteer")[0], "MR")
    assert vol.shape == (35, 256, 256) and vol.spacing_mm[0] == pytest.approx(4.8, abs=1e-3)


@requires_shared_data("radiology/cr/RG1_J2KI.dcm", "radiology/cr/RG3_J2KR.dcm")
def test_real_jpeg2000_radiographs_through_reader(tmp_path):
    folder = shared_data_dir() / "radiology/cr"
    files = tuple(DiscoveredFile("radiology", f"radiology/X/{p.name}", "X", p, 1) for p in sorted(folder.iterdir()))
    ctx = IngestContext(None, Pseudonymizer(PseudonymKey(b"k" * 32, "t")), RadiologyOptions(), frozenset())
    res = RadiologyReader().read(Item("radiology", "X", files), ctx, tmp_path)
    ok = [s for s in res.metadata["series"] if s["status"] == "ok"]
    assert sorted(tuple(s["shape"]) for s in ok) == [(1, 1760, 1760), (1, 1955, 1841)]
    assert all(s["kind"] == "image2d" and s["intensity_range"][1] > 0 for s in ok)
    assert read_nifti(tmp_path / ok[0]["artifact"]).array.std() > 0


@pytest.mark.slow
def test_synthetic_cohort_no_phi_in_workspace(tmp_path):
    from clinfusion.ingest import ingest
    from clinfusion.synth import generate_cohort

    generate_cohort(tmp_path / "c", n_patients=2, seed=0, scale="small", modalities=("radiology",))
    phi = pd.read_csv(tmp_path / "c" / "truth" / "phi.csv", dtype=str)
    needles = {v.encode() for v in phi.loc[phi.modality == "radiology", "value"].dropna() if len(v) >= 4}
    assert needles
    report = ingest(tmp_path / "c", tmp_path / "ws", demo=True)
    rad = report.catalog[report.catalog.modality == "radiology"]
    assert len(rad) == 2 and (rad.status == "ingested").all(), rad.reason.tolist()
    for path in (tmp_path / "ws").rglob("*"):
        if path.is_file() and ".secrets" not in path.parts:
            data = path.read_bytes()
            leaks = [n for n in needles if n in data]
            assert not leaks, f"{leaks} in {path}"
