"""Signal conditioning: NaN repair, anti-aliased resampling, band-pass and notch filters, windows.

All functions are pure and work on ``[channels, samples]`` float arrays in mV.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=64)
def _butter_design(order: int, freqs_hz: float | tuple[float, float], btype: str, fs_hz: float) -> np.ndarray:
    from scipy.signal import butter

    return butter(order, list(freqs_hz) if isinstance(freqs_hz, tuple) else freqs_hz, btype=btype, fs=fs_hz, output="sos")


def butter_sos(order: int, freqs_hz: float | tuple[float, float], btype: str, fs_hz: float) -> np.ndarray:
    """Butterworth second-order sections ``[sections, 6]``, designed once per setting (a design
    costs ~5 ms, more than filtering a 10 s lead, and every record and lead reuses the same few);
    a fresh copy each call (scipy's filters want a writable array)."""
    return _butter_design(order, freqs_hz, btype, fs_hz).copy()


@lru_cache(maxsize=64)
def _notch_design(freq_hz: float, quality: float, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy.signal import iirnotch

    return iirnotch(freq_hz, quality, fs=fs_hz)


def fill_gaps(x: np.ndarray) -> np.ndarray:
    """Replace NaN samples (WFDB "no data") by linear interpolation per channel; all-NaN -> 0.

    Shapes:
        x: ``[C, n]``; returns the same shape.
    """
    out = np.array(x, dtype=np.float64, copy=True)
    for row in out:
        bad = ~np.isfinite(row)
        if bad.all():
            row[:] = 0.0
        elif bad.any():
            idx = np.arange(row.size)
            row[bad] = np.interp(idx[bad], idx[~bad], row[~bad])
    return out


def resample(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """Resample along the last axis with a polyphase FIR (Kaiser window), which low-passes below
    the new Nyquist before decimating, so downsampling does not alias.

    The ratio is approximated by a fraction with denominator <= 1000 (exact for 360->500,
    1000->500, 257->500 ...).

    Shapes:
        x: ``[C, n]`` -> ``[C, round(n * fs_out / fs_in)]``.
    """
    from scipy.signal import resample_poly

    if abs(fs_in - fs_out) < 1e-9:
        return np.asarray(x, dtype=np.float64)
    ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
    return resample_poly(x, ratio.numerator, ratio.denominator, axis=-1)


def bandpass(x: np.ndarray, fs_hz: float, low_hz: float, high_hz: float, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth band-pass (forward-backward, so the effective order doubles and
    wave timings used by the measurements are not shifted). ``high_hz`` is capped below Nyquist.
    """
    from scipy.signal import sosfiltfilt

    high = min(high_hz, 0.45 * fs_hz)
    sos = butter_sos(order, (float(low_hz), float(high)), "bandpass", float(fs_hz))
    padlen = min(x.shape[-1] - 1, 3 * (2 * len(sos) + 1) * 10)
    return sosfiltfilt(sos, x, axis=-1, padlen=max(padlen, 0))


def notch(x: np.ndarray, fs_hz: float, freq_hz: float, quality: float = 30.0) -> np.ndarray:
    """Zero-phase IIR notch at the mains frequency (and nothing if it is above Nyquist)."""
    from scipy.signal import filtfilt

    if freq_hz >= fs_hz / 2:
        return x
    b, a = (v.copy() for v in _notch_design(float(freq_hz), float(quality), float(fs_hz)))
    return filtfilt(b, a, x, axis=-1, padlen=min(x.shape[-1] - 1, 3 * max(len(a), len(b))))


def windows(x: np.ndarray, n_window: int, max_windows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``[C, n]`` into consecutive non-overlapping windows of ``n_window`` samples.

    A trailing remainder shorter than half a window is dropped; a longer one (or a record shorter
    than a window) becomes a last window zero-padded at the end, with its valid length recorded.

    Returns:
        ``([W, C, n_window] float32, [W] int64 valid samples per window)``.
    """
    c, n = x.shape
    starts = list(range(0, max(n - n_window + 1, 0), n_window)) or [0]
    last_end = starts[-1] + n_window
    if n > last_end and (n - last_end) >= n_window // 2:
        starts.append(last_end)
    if max_windows is not None:
        starts = starts[:max_windows]
    out = np.zeros((len(starts), c, n_window), dtype=np.float32)
    valid = np.zeros(len(starts), dtype=np.int64)
    for k, s in enumerate(starts):
        seg = x[:, s:s + n_window]
        out[k, :, : seg.shape[1]] = seg
        valid[k] = seg.shape[1]
    return out, valid
