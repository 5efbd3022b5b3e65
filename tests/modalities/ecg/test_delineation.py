"""The fast dwt delineation and cached filter designs give the values of the neurokit2 path they replace."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from clinfusion.modalities.ecg import measurements, signal
from clinfusion.modalities.ecg.delineation import NEEDED, dwt_waves
from clinfusion.modalities.ecg.formats import detect, format_module
from clinfusion.modalities.ecg.options import EcgOptions
from clinfusion.modalities.ecg.process import process
from clinfusion.testing import requires_shared_data, shared_data_dir

nk = pytest.importorskip("neurokit2")
OPTS = EcgOptions()


def _nk_waves(x: np.ndarray, rpeaks: np.ndarray, fs: int) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nk.ecg_delineate(x, rpeaks, sampling_rate=fs, method="dwt")[1]


def _assert_same_waves(x: np.ndarray, rpeaks: np.ndarray, fs: int) -> None:
    want = _nk_waves(x, rpeaks, fs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = dwt_waves(x, rpeaks, fs)
    for key in NEEDED:
        np.testing.assert_array_equal(np.asarray(got[key], float), np.asarray(want[key], float), err_msg=key)


@pytest.mark.parametrize(("hr", "noise", "seed"), [(60, 0.01, 0), (95, 0.05, 1), (140, 0.1, 2)])
def test_dwt_waves_equal_neurokit_on_simulated_ecg(hr: int, noise: float, seed: int) -> None:
    fs = 500
    x = nk.ecg_simulate(duration=12, sampling_rate=fs, heart_rate=hr, noise=noise, random_state=seed)
    rpeaks = measurements.detect_rpeaks(x, fs)
    assert rpeaks.size >= 8
    _assert_same_waves(x, rpeaks, fs)


def test_short_signal_fails_like_neurokit() -> None:
    x = nk.ecg_simulate(duration=3, sampling_rate=500, heart_rate=70, random_state=0)
    rpeaks = measurements.detect_rpeaks(x, 500)
    with pytest.raises(ValueError, match="too small"):
        nk.ecg_delineate(x, rpeaks, sampling_rate=500, method="dwt")
    with pytest.raises(ValueError, match="too small"):
        dwt_waves(x, rpeaks, 500)


def test_filter_designs_are_cached_and_identical() -> None:
    from scipy.signal import butter

    a = signal.butter_sos(2, (0.5, 40.0), "bandpass", 500.0)
    a[:] = 0  # callers get copies: the cached design cannot be damaged
    b = signal.butter_sos(2, (0.5, 40.0), "bandpass", 500.0)
    np.testing.assert_array_equal(b, butter(2, [0.5, 40.0], btype="bandpass", fs=500, output="sos"))
    np.testing.assert_array_equal(signal.butter_sos(2, 45.0, "highpass", 500.0), butter(2, 45.0, btype="highpass", fs=500, output="sos"))


def _old_measure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Route measurements/quality through the previous code: neurokit's ecg_delineate, fresh butter designs,
    one lead at a time quality."""
    import clinfusion.modalities.ecg.delineation as dl

    def via_neurokit(x, rpeaks, fs):
        return {k: v for k, v in _nk_waves(x, rpeaks, fs).items() if k in NEEDED}

    monkeypatch.setattr(dl, "dwt_waves", via_neurokit)
    from scipy.signal import butter

    def fresh(order, freqs, btype, fs):
        return butter(order, list(freqs) if isinstance(freqs, tuple) else freqs, btype=btype, fs=fs, output="sos")

    monkeypatch.setattr(signal, "butter_sos", fresh)  # quality and bandpass look it up at call time
    import clinfusion.modalities.ecg.process as proc
    from clinfusion.modalities.ecg import quality

    monkeypatch.setattr(proc, "record_flags", lambda leads, fs, notch_hz: [quality.lead_flags(r, fs, notch_hz) for r in leads])


@requires_shared_data("ecg/cinc2021")
def test_records_measure_the_same_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted((shared_data_dir() / "ecg/cinc2021").glob("*.hea"))[:6] + [shared_data_dir() / "ecg/ptb/s0010_re.hea"]
    files = [f for f in files if f.exists()]
    new = [process(format_module(detect(f)).read(f, OPTS), OPTS) for f in files]
    _old_measure(monkeypatch)
    old = [process(format_module(detect(f)).read(f, OPTS), OPTS) for f in files]
    for f, a, b in zip(files, new, old, strict=True):
        assert a.quality == b.quality, f.name
        for key in ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "axis_deg"):
            np.testing.assert_array_equal(a.measurements[key], b.measurements[key], err_msg=f"{f.name} {key}")
        np.testing.assert_array_equal(a.measurements["lead_features"], b.measurements["lead_features"])
        assert np.isfinite(a.measurements["qrs_ms"]) or np.isnan(b.measurements["qrs_ms"])


def test_record_flags_equal_per_lead_flags_on_hand_built_leads() -> None:
    from clinfusion.modalities.ecg import quality
    from clinfusion.modalities.ecg.quality_matrix import record_flags

    fs, n = 500.0, 5000
    t = np.arange(n) / fs
    rng = np.random.default_rng(0)
    ecg = nk.ecg_simulate(duration=10, sampling_rate=500, heart_rate=70, random_state=0)[:n]
    clipped = np.minimum(ecg, np.percentile(ecg, 97))
    rows = [ecg, np.zeros(n), ecg + rng.normal(0, 0.2, n), ecg + 2.0 * np.sin(2 * np.pi * 0.2 * t), clipped,
            np.where(np.arange(n) % 700 == 0, np.nan, ecg)]
    leads = np.stack(rows)
    got = record_flags(leads, fs, 50.0)
    want = [quality.lead_flags(r, fs, 50.0) for r in leads]
    assert got == want
    assert want[1] == ["flat"] and "noisy" in want[2] and "baseline_wander" in want[3] and "clipped" in want[4]
    assert record_flags(leads[:, :40], fs, None) == [quality.lead_flags(r, fs, None) for r in leads[:, :40]]


@requires_shared_data("ecg/cinc2021")
def test_record_flags_equal_per_lead_flags_on_real_records() -> None:
    from clinfusion.modalities.ecg import quality
    from clinfusion.modalities.ecg.quality_matrix import record_flags

    for f in sorted((shared_data_dir() / "ecg/cinc2021").glob("*.hea")):
        raw = format_module(detect(f)).read(f, OPTS)
        leads = raw.signal.T
        assert record_flags(leads, raw.fs_hz, OPTS.notch_hz) == [quality.lead_flags(r, raw.fs_hz, OPTS.notch_hz)
                                                                 for r in leads], f.name
