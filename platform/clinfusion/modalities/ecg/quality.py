"""Per-lead signal quality: flat line, clipping, noise, baseline wander, likely lead reversal.

Pure functions of one lead (1-D, mV). Thresholds are conservative and were checked for false
alarms on every real record in ``../shared/data/ecg`` (no flags on the CinC 12-leads except
genuinely noisy ones); they are module constants so a study can tighten them.
"""

from __future__ import annotations

import numpy as np

FLAT_RANGE_MV = 0.02          # robust peak-to-peak below 20 uV: no signal
FLAT_STILL_FRACTION = 0.95    # or >= 95 % of consecutive samples identical
CLIP_FRACTION = 0.005         # >= 0.5 % of samples pinned at the extreme value (saturated ADC/amplifier)
CLIP_RUN = 3                  # ... in runs of at least 3 samples
NOISE_MV = 0.05               # robust SD of the > 45 Hz residual (EMG, after the mains notch)
WANDER_MV = 1.5               # robust range of the < 0.7 Hz component

FLAGS: tuple[str, ...] = ("flat", "clipped", "noisy", "baseline_wander", "lead_reversal")


def is_flat(x: np.ndarray) -> bool:
    """No usable signal: tiny robust range, or the samples barely change."""
    if x.size < 2:
        return True
    lo, hi = np.percentile(x, [0.5, 99.5])
    still = float(np.mean(np.diff(x) == 0))
    return bool(hi - lo < FLAT_RANGE_MV or still >= FLAT_STILL_FRACTION)


def _longest_run(mask: np.ndarray) -> int:
    if not mask.any():
        return 0
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def is_clipped(x: np.ndarray) -> bool:
    """Samples pinned at the lead's maximum or minimum for a noticeable fraction of the record."""
    hi, lo = float(np.max(x)), float(np.min(x))
    if hi - lo <= 0:
        return False
    tol = 1e-6 * (hi - lo)
    for mask in (x >= hi - tol, x <= lo + tol):
        if mask.mean() >= CLIP_FRACTION and _longest_run(mask) >= CLIP_RUN:
            return True
    return False


def _robust_sd(x: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def noise_mv(x: np.ndarray, fs_hz: float, notch_hz: float | None) -> float:
    """Robust SD (mV) of the content above 45 Hz after removing mains: EMG/electrode noise.

    The median-based SD ignores the QRS complexes (about 10 % of the time), which also carry
    energy above 45 Hz.
    """
    from scipy.signal import sosfiltfilt

    from clinfusion.modalities.ecg.signal import butter_sos, notch

    if fs_hz <= 100 or x.size < 64:
        return 0.0
    sos = butter_sos(2, 45.0, "highpass", float(fs_hz))
    hf = sosfiltfilt(sos, x)
    if notch_hz:
        for k in (1, 2, 3):
            hf = notch(hf, fs_hz, k * notch_hz)
    return _robust_sd(hf)


def wander_mv(x: np.ndarray, fs_hz: float) -> float:
    """Robust range (1st-99th percentile, mV) of the component below 0.7 Hz."""
    from scipy.signal import sosfiltfilt

    from clinfusion.modalities.ecg.signal import butter_sos

    if x.size < 64:
        return 0.0
    sos = butter_sos(2, 0.7, "lowpass", float(fs_hz))
    low = sosfiltfilt(sos, x)
    lo, hi = np.percentile(low, [1, 99])
    return float(hi - lo)


def lead_flags(raw: np.ndarray, fs_hz: float, notch_hz: float | None) -> list[str]:
    """Flags of one recorded lead (raw mV at the file's rate, before filtering)."""
    x = raw[np.isfinite(raw)]
    if is_flat(x):
        return ["flat"]
    flags = []
    if is_clipped(x):
        flags.append("clipped")
    if noise_mv(x, fs_hz, notch_hz) > NOISE_MV:
        flags.append("noisy")
    if wander_mv(x, fs_hz) > WANDER_MV:
        flags.append("baseline_wander")
    return flags


def reversal_suspected(qrs_net_mv: dict[str, float]) -> bool:
    """Likely left/right arm electrode swap: net QRS negative in lead I and positive in aVR.

    With a normal axis lead I is positive and aVR negative; both inverted at once is the classic
    LA/RA reversal pattern (dextrocardia gives the same picture, hence "likely").
    """
    i, avr = qrs_net_mv.get("I"), qrs_net_mv.get("aVR")
    return i is not None and avr is not None and i < -0.1 and avr > 0.1
