"""Quality flags of all leads of a record at once: :func:`quality.lead_flags` over a ``[L, n]`` matrix.

The noise and wander filters (Butterworth high/low-pass, mains notches, zero-phase) run once on
the matrix of the leads that need them instead of once per lead; scipy filters each row with
the same arithmetic either way, and the percentiles / medians are per row, so every flag equals
``quality.lead_flags`` of that lead (tests/modalities/ecg/test_delineation.py checks it on the
shared records). The flat and clipped rules are :mod:`quality`'s own functions. A lead with
non-finite samples goes through ``lead_flags`` itself (it drops them, changing the length).
"""

from __future__ import annotations

import numpy as np

from clinfusion.modalities.ecg import quality


def _robust_sd_rows(x: np.ndarray) -> np.ndarray:
    return 1.4826 * np.median(np.abs(x - np.median(x, axis=1, keepdims=True)), axis=1)


def noise_rows(x: np.ndarray, fs_hz: float, notch_hz: float | None) -> np.ndarray:
    """``[L]`` :func:`quality.noise_mv` of each row of ``x [L, n]``."""
    from scipy.signal import sosfiltfilt

    from clinfusion.modalities.ecg.signal import butter_sos, notch

    if fs_hz <= 100 or x.shape[1] < 64:
        return np.zeros(x.shape[0])
    hf = sosfiltfilt(butter_sos(2, 45.0, "highpass", float(fs_hz)), x, axis=-1)
    if notch_hz:
        for k in (1, 2, 3):
            hf = notch(hf, fs_hz, k * notch_hz)
    return _robust_sd_rows(hf)


def wander_rows(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """``[L]`` :func:`quality.wander_mv` of each row of ``x [L, n]``."""
    from scipy.signal import sosfiltfilt

    from clinfusion.modalities.ecg.signal import butter_sos

    if x.shape[1] < 64:
        return np.zeros(x.shape[0])
    low = sosfiltfilt(butter_sos(2, 0.7, "lowpass", float(fs_hz)), x, axis=-1)
    lo, hi = np.percentile(low, [1, 99], axis=1)
    return hi - lo


def record_flags(leads: np.ndarray, fs_hz: float, notch_hz: float | None) -> list[list[str]]:
    """Flags of every lead (raw mV at the file's rate), equal to ``[quality.lead_flags(row) ...]``.

    Shapes:
        leads: ``[L, n]``; returns ``L`` flag lists.
    """
    x = np.asarray(leads)
    out: list[list[str] | None] = [None] * x.shape[0]
    rows = []
    for i, row in enumerate(x):
        if not np.isfinite(row).all():
            out[i] = quality.lead_flags(row, fs_hz, notch_hz)
        elif quality.is_flat(row):
            out[i] = ["flat"]
        else:
            rows.append(i)
    if rows:
        sub = x[rows]
        noisy = noise_rows(sub, fs_hz, notch_hz) > quality.NOISE_MV
        wander = wander_rows(sub, fs_hz) > quality.WANDER_MV
        for j, i in enumerate(rows):
            flags = ["clipped"] if quality.is_clipped(x[i]) else []
            flags += ["noisy"] * bool(noisy[j]) + ["baseline_wander"] * bool(wander[j])
            out[i] = flags
    return [f if f is not None else [] for f in out]
