"""Interpretable measurements: R peaks, HR and time-domain HRV, PR/QRS/QT, QTc, ST level, axis.

R peaks come from neurokit2's QRS detector on a reference lead (II, else the strongest usable
lead); wave boundaries from neurokit2's wavelet delineation (``dwt``, through
:mod:`~clinfusion.modalities.ecg.delineation`, which skips the outputs never read) of the first
few windows of that lead; per-lead amplitudes from a median beat aligned on the R peaks. Intervals are medians
over beats, so single mis-delineated beats do not move them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinfusion.modalities.ecg.leads import STANDARD_LEADS

RR_MIN_S, RR_MAX_S = 0.25, 2.5          # physiological RR range (240 .. 24 bpm)
TEMPLATE_PRE_S, TEMPLATE_POST_S = 0.30, 0.55
ST_OFFSET_S = 0.06                      # ST level measured at J + 60 ms
LEAD_FEATURES: tuple[str, ...] = ("r_amp_mv", "s_amp_mv", "qrs_net_mv", "qrs_p2p_mv", "st_mv", "t_amp_mv")


@dataclass
class Rhythm:
    """R peaks and rate of one lead. ``hr_bpm`` etc. are NaN with fewer than 2 valid RR intervals."""

    rpeaks: np.ndarray
    hr_bpm: float
    rr_ms: float
    sdnn_ms: float
    rmssd_ms: float
    pnn50: float

    def as_dict(self) -> dict[str, float]:
        return {"hr_bpm": self.hr_bpm, "rr_ms": self.rr_ms, "sdnn_ms": self.sdnn_ms, "rmssd_ms": self.rmssd_ms,
                "pnn50": self.pnn50, "n_beats": int(len(self.rpeaks))}


def reference_lead(leads: np.ndarray, usable: np.ndarray) -> int:
    """Index of the lead used for rhythm and delineation: II when usable, else the strongest usable."""
    if usable[1]:
        return 1
    idx = np.flatnonzero(usable)
    if idx.size == 0:
        return 1
    amp = [np.percentile(leads[i], 99) - np.percentile(leads[i], 1) for i in idx]
    return int(idx[int(np.argmax(amp))])


def detect_rpeaks(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """R-peak sample indices (neurokit2 detector; empty when none are found)."""
    import neurokit2 as nk

    if x.size < int(2 * fs_hz) or np.ptp(x) == 0:
        return np.zeros(0, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _, info = nk.ecg_peaks(x, sampling_rate=int(round(fs_hz)), method="neurokit")
        except (ValueError, IndexError, ZeroDivisionError):
            return np.zeros(0, dtype=np.int64)
    return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)


def rhythm(rpeaks: np.ndarray, fs_hz: float) -> Rhythm:
    """Heart rate and time-domain HRV from R peaks (RR outside 0.25-2.5 s are ignored)."""
    rr = np.diff(rpeaks) / fs_hz
    rr = rr[(rr >= RR_MIN_S) & (rr <= RR_MAX_S)]
    if rr.size < 2:
        nan = float("nan")
        return Rhythm(rpeaks, nan, nan, nan, nan, nan)
    d = np.abs(np.diff(rr)) * 1000
    return Rhythm(rpeaks, float(60.0 / rr.mean()), float(rr.mean() * 1000), float(rr.std(ddof=1) * 1000),
                  float(np.sqrt(np.mean(d**2))) if d.size else float("nan"),
                  float(np.mean(d > 50)) if d.size else float("nan"))


def delineate(x: np.ndarray, rpeaks: np.ndarray, fs_hz: float) -> dict[str, float]:
    """Median PR, QRS, QT (ms) and QRS on/offset relative to R (s) by wavelet delineation of one lead."""
    from clinfusion.modalities.ecg.delineation import dwt_waves

    out = {"pr_ms": np.nan, "qrs_ms": np.nan, "qt_ms": np.nan, "qrs_on_s": np.nan, "qrs_off_s": np.nan}
    if rpeaks.size < 3:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # = nk.ecg_delineate(x, rpeaks, fs, method="dwt")[1] on the four keys read below, ~4x faster
            w = dwt_waves(x, rpeaks, int(round(fs_hz)))
        except (ValueError, IndexError, KeyError, ZeroDivisionError):
            return out
    arr = {k: np.asarray(v, dtype=float) for k, v in w.items()}
    r = rpeaks.astype(float)[: len(arr["ECG_R_Onsets"])]

    def med(values: np.ndarray, lo: float, hi: float) -> float:
        v = values[np.isfinite(values) & (values >= lo) & (values <= hi)]
        return float(np.median(v)) if v.size else float("nan")

    ms = 1000.0 / fs_hz
    on, off = arr["ECG_R_Onsets"], arr["ECG_R_Offsets"]
    out["pr_ms"] = med((on - arr["ECG_P_Onsets"]) * ms, 60, 400)
    out["qrs_ms"] = med((off - on) * ms, 40, 250)
    out["qt_ms"] = med((arr["ECG_T_Offsets"] - on) * ms, 200, 700)
    out["qrs_on_s"] = med((on - r) / fs_hz, -0.15, 0.0)
    out["qrs_off_s"] = med((off - r) / fs_hz, 0.0, 0.2)
    return out


def qtc(qt_ms: float, rr_ms: float) -> tuple[float, float]:
    """QTc (ms) by Bazett (QT / sqrt(RR)) and Fridericia (QT / RR^(1/3)), RR in seconds."""
    rr_s = rr_ms / 1000.0
    if not (np.isfinite(qt_ms) and np.isfinite(rr_s)) or rr_s <= 0:
        return float("nan"), float("nan")
    return float(qt_ms / np.sqrt(rr_s)), float(qt_ms / np.cbrt(rr_s))


def median_beat(leads: np.ndarray, rpeaks: np.ndarray, fs_hz: float, max_beats: int = 60) -> np.ndarray | None:
    """Median beat ``[12, pre+post]`` aligned on R peaks (up to ``max_beats`` beats), or None."""
    pre, post = int(TEMPLATE_PRE_S * fs_hz), int(TEMPLATE_POST_S * fs_hz)
    ok = rpeaks[(rpeaks >= pre) & (rpeaks + post <= leads.shape[1])][:max_beats]
    if ok.size < 2:
        return None
    return np.median(np.stack([leads[:, r - pre: r + post] for r in ok]), axis=0)


def lead_amplitudes(template: np.ndarray, fs_hz: float, qrs_on_s: float, qrs_off_s: float) -> np.ndarray:
    """Per-lead amplitudes (mV) from a median beat, relative to the PR-segment baseline.

    Returns:
        ``[12, len(LEAD_FEATURES)]``: R and S amplitude, net QRS (R - |S|), QRS peak-to-peak,
        ST level at J + 60 ms, T amplitude (largest deflection 100-400 ms after J).
    """
    pre = int(TEMPLATE_PRE_S * fs_hz)
    on = pre + int(round((qrs_on_s if np.isfinite(qrs_on_s) else -0.05) * fs_hz))
    off = pre + int(round((qrs_off_s if np.isfinite(qrs_off_s) else 0.05) * fs_hz))
    base = np.median(template[:, max(on - int(0.03 * fs_hz), 0): max(on, 1)], axis=1, keepdims=True)
    t = template - base
    qrs = t[:, on: off + 1]
    r_amp, s_amp = qrs.max(axis=1), -qrs.min(axis=1)
    st = t[:, min(off + int(ST_OFFSET_S * fs_hz), t.shape[1] - 1)]
    tw = t[:, min(off + int(0.1 * fs_hz), t.shape[1] - 1): min(off + int(0.4 * fs_hz), t.shape[1])]
    t_amp = tw[np.arange(tw.shape[0]), np.abs(tw).argmax(axis=1)] if tw.shape[1] else np.zeros(t.shape[0])
    return np.stack([r_amp, s_amp, r_amp - s_amp, r_amp + s_amp, st, t_amp], axis=1)


def frontal_axis(qrs_net_i: float, qrs_net_avf: float) -> float:
    """Frontal QRS axis (degrees, -180..180] from net QRS in I (0 deg) and aVF (+90 deg)."""
    if not (np.isfinite(qrs_net_i) and np.isfinite(qrs_net_avf)) or (qrs_net_i == 0 and qrs_net_avf == 0):
        return float("nan")
    return float(np.degrees(np.arctan2(qrs_net_avf, qrs_net_i)))


def measure(leads: np.ndarray, usable: np.ndarray, fs_hz: float, delineate_s: float = 30.0) -> dict[str, Any]:
    """Every record-level measurement.

    Args:
        leads: ``[12, n]`` filtered leads in mV at ``fs_hz``.
        usable: ``[12]`` bool: present and neither flat nor clipped.
        fs_hz: sampling rate.
        delineate_s: seconds at the start delineated for intervals (bounds the cost on Holters).

    Returns:
        ``hr_bpm, rr_ms, sdnn_ms, rmssd_ms, pnn50, n_beats, pr_ms, qrs_ms, qt_ms, qtc_ms`` (Bazett),
        ``qtc_fridericia_ms, axis_deg, st_mv`` (per lead), ``lead_features`` (``[12, F]``) and
        ``reference_lead``; unmeasurable values are NaN.
    """
    ref = reference_lead(leads, usable)
    peaks = detect_rpeaks(leads[ref], fs_hz)
    rh = rhythm(peaks, fs_hz)
    n_del = int(delineate_s * fs_hz)
    waves = delineate(leads[ref, :n_del], peaks[peaks < n_del - int(0.6 * fs_hz)], fs_hz)
    bazett, fridericia = qtc(waves["qt_ms"], rh.rr_ms)
    template = median_beat(leads, peaks, fs_hz)
    feats = np.full((len(STANDARD_LEADS), len(LEAD_FEATURES)), np.nan)
    if template is not None:
        feats = lead_amplitudes(template, fs_hz, waves["qrs_on_s"], waves["qrs_off_s"])
        feats[~usable] = np.nan
    net = dict(zip(STANDARD_LEADS, feats[:, 2], strict=True))
    return {
        **rh.as_dict(),
        "pr_ms": waves["pr_ms"], "qrs_ms": waves["qrs_ms"], "qt_ms": waves["qt_ms"],
        "qtc_ms": bazett, "qtc_fridericia_ms": fridericia,
        "axis_deg": frontal_axis(net["I"], net["aVF"]),
        "st_mv": {n: float(v) for n, v in zip(STANDARD_LEADS, feats[:, 4], strict=True) if np.isfinite(v)},
        "qrs_net_mv": {n: float(v) for n, v in net.items() if np.isfinite(v)},
        "lead_features": feats,
        "reference_lead": STANDARD_LEADS[ref],
    }
