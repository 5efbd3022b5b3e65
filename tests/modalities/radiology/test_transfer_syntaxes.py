"""Every common transfer syntax ingests to the same HU volume as its uncompressed twin.

One patient per syntax, each holding the same CT phantom series re-encoded by
:mod:`clinfusion.testing.dicom_codecs`; lossless syntaxes must match the twin exactly, lossy ones
within the tolerance the codec table states (mean and max absolute HU error).
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pydicom
import pytest
from clinfusion.ingest import ingest
from clinfusion.modalities.radiology.read import series_paths
from clinfusion.privacy import Pseudonymizer, load_key
from clinfusion.testing import write_tiny_cohort
from clinfusion.testing.dicom import write_ct_series
from clinfusion.testing.dicom_codecs import SYNTAXES, encode_files, to_8bit
from clinfusion.workspace import Workspace, read_catalog

NAMES = list(SYNTAXES)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    base = tmp_path_factory.mktemp("ts")
    spec = {"limits": {"item_seconds": None}, "modalities": {"radiology": {"options": {"previews": False}}}}
    cohort = write_tiny_cohort(base / "cohort", n_patients=len(NAMES) + 2, spec=spec)
    twin16, twin8, *rest = cohort.patients
    src = write_ct_series(base / "src", n_slices=4, rows=32, cols=32)
    encode_files(src, "explicit_little", cohort.root / "radiology" / twin16 / "ct")
    # the 8-bit twin: the same series stored 8-bit uncompressed, for the 8-bit-only JPEG Baseline
    (cohort.root / "radiology" / twin8 / "ct").mkdir(parents=True)
    for f in src:
        pydicom.dcmwrite(cohort.root / "radiology" / twin8 / "ct" / f.name, to_8bit(pydicom.dcmread(f)),
                         enforce_file_format=True)
    patient_of = dict(zip(NAMES, rest, strict=True))
    for name, pid in patient_of.items():
        encode_files(src, name, cohort.root / "radiology" / pid / "ct")
    ws = base / "ws"
    ingest(cohort.root, ws, demo=True)
    ws_ = Workspace.open(ws)
    pz = Pseudonymizer(load_key(ws))
    cat = read_catalog(ws_)
    rows = {r.patient_id: r for r in cat[cat.modality == "radiology"].itertuples()}

    def volume(pid):
        row = rows[pz.patient(pid)]
        assert row.status == "ingested", row.reason
        (_, path, rec), *_ = series_paths(ws_.root, row._asdict())
        return np.asarray(nib.load(path).dataobj, dtype=np.float32), rec

    return volume, twin16, twin8, patient_of


@pytest.mark.parametrize("name", NAMES)
def test_syntax_matches_uncompressed_twin(ingested, name):
    volume, twin16, twin8, patient_of = ingested
    codec = SYNTAXES[name]
    got, rec = volume(patient_of[name])
    ref, ref_rec = volume(twin8 if codec.bits8 else twin16)
    assert rec["transfer_syntax"] == codec.uid
    assert got.shape == ref.shape == (32, 32, 4)
    assert rec["affine"] == ref_rec["affine"]
    err = np.abs(got - ref)
    if codec.lossless:
        np.testing.assert_array_equal(got, ref)
    else:
        assert err.max() > 0 or name == "jpegls_near_lossless", "a lossy codec that changed nothing: test is not testing"
        assert err.mean() <= codec.mean_hu, (name, float(err.mean()))
        assert err.max() <= codec.max_hu, (name, float(err.max()))


def test_lossy_flag_recorded(ingested):
    volume, _, _, patient_of = ingested
    assert volume(patient_of["j2k_lossy"])[1]["lossy"] is True
    assert volume(patient_of["j2k_lossless"])[1]["lossy"] is False
    assert json.dumps(volume(patient_of["rle"])[1])  # JSON-ready record
