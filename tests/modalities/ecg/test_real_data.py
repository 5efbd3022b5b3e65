"""Acceptance on the real ECGs in ../shared/data/ecg and pydicom's waveform_ecg.dcm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from clinfusion.modalities.ecg.deid import scrub_comments
from clinfusion.modalities.ecg.formats import detect, format_module
from clinfusion.modalities.ecg.options import EcgOptions
from clinfusion.modalities.ecg.process import process
from clinfusion.modalities.ecg.read import annotation_hr
from clinfusion.testing import requires_shared_data, shared_data_dir

pytestmark = pytest.mark.shared_data
OPTS = EcgOptions()


def _load(path: Path):
    raw = format_module(detect(path)).read(path, OPTS)
    return raw, process(raw, OPTS, rel=path.name)


@requires_shared_data("ecg/ptb/s0010_re.hea")
def test_ptb_15_leads_become_12_at_500hz_with_frank_aside():
    raw, rec = _load(shared_data_dir() / "ecg/ptb/s0010_re.hea")
    assert raw.fs_hz == 1000 and raw.signal.shape[1] == 15
    assert rec.present.all() and rec.fs_hz == 500 and rec.windows.shape[1:] == (12, 5000)
    assert rec.extra_names == ["vx", "vy", "vz"] and rec.extra.shape[1] == 3
    assert rec.windows.shape[0] == 4  # 38.4 s -> 3 full windows + an 8.4 s tail
    labels = scrub_comments(raw.comments)
    assert labels["age"] == 81 and labels["sex"] == "F" and labels["comments_dropped"] > 40
    assert "1990" not in repr(labels) and "Sep" not in repr(labels)


@requires_shared_data("ecg/mitbih/100.hea", "ecg/mitbih/100.atr")
def test_mitbih_holter_gives_windows_and_heart_rate_matches_beat_annotations():
    base = shared_data_dir() / "ecg/mitbih"
    raw, rec = _load(base / "100.hea")
    assert rec.windows.shape == (181, 12, 5000)  # 1805.6 s: 180 full windows + a 5.6 s tail
    assert [n for n, p in zip(("I", "II"), rec.present[:2], strict=True) if p] == ["II"]
    reference = annotation_hr(base / "100.atr", raw.fs_hz)
    assert reference == pytest.approx(75.5, abs=0.5)
    assert rec.measurements["hr_bpm"] == pytest.approx(reference, abs=5)


@requires_shared_data("ecg/cinc2021")
def test_all_cinc_records_load_with_dx_codes():
    files = sorted((shared_data_dir() / "ecg/cinc2021").glob("*.hea"))
    assert len(files) == 40
    for hea in files:
        raw, rec = _load(hea)
        assert rec.present.all() and rec.windows.shape == (1, 12, 5000), hea.name
        dx = scrub_comments(raw.comments)["dx"]
        assert dx and all(c.isdigit() for c in dx), hea.name
        assert 30 < rec.measurements["hr_bpm"] < 200, hea.name


@requires_shared_data("ecg/cinc2021/JS20004.hea", "ecg/cinc2021/HR06006.hea")
def test_real_flat_and_clipped_leads_are_flagged():
    _, flat = _load(shared_data_dir() / "ecg/cinc2021/JS20004.hea")  # V2, V4, V6 are all-zero in the file
    assert [n for n, f in flat.quality.items() if "flat" in f] == ["V2", "V4", "V6"]
    _, clip = _load(shared_data_dir() / "ecg/cinc2021/HR06006.hea")  # 56 samples pinned at the minimum
    assert "clipped" in clip.quality["II"]


def test_dicom_waveform_12_leads_and_hr_matches_machine_measurement():
    pydicom_data = pytest.importorskip("pydicom.data")
    raw, rec = _load(Path(pydicom_data.get_testdata_file("waveform_ecg.dcm")))
    assert raw.fmt == "dicom" and raw.fs_hz == 1000 and rec.present.all()
    assert rec.windows.shape == (1, 12, 5000)
    assert raw.reference["rr_ms"] == 982 and raw.reference["qrs_ms"] == 75
    assert rec.measurements["hr_bpm"] == pytest.approx(60000 / raw.reference["rr_ms"], abs=5)
    assert rec.measurements["qt_ms"] == pytest.approx(raw.reference["qt_ms"], abs=40)
    assert rec.measurements["axis_deg"] == pytest.approx(raw.reference["axis_deg"], abs=30)
    assert np.isfinite(rec.measurements["pr_ms"])
    assert set(raw.attributes) <= {"age", "sex"}
