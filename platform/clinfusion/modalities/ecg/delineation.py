"""neurokit2's wavelet (``dwt``) delineation, without the parts the measurements never read.

``nk.ecg_delineate(method="dwt")`` spends about 80 % of its time on pandas heartbeat epochs
(``ecg_segment``) and on ``signal_findpeaks``' peak bases for the Q and S waves, then returns ten
wave lists. The measurements read four of them (P onsets, QRS onsets and offsets, T offsets); S
peaks feed none of them and Q peaks only need the positions. This module recomputes exactly
those four lists with the same arithmetic:

- heartbeat windows: neurokit's ``_ecg_segment_window`` rule (from ``signal_rate``) and
  ``epochs_create``'s sample slicing and NaN padding, as plain array slices;
- Q peaks: ``signal_findpeaks(-beat, height_min=...)`` = scipy ``find_peaks`` kept where the
  prominence reaches ``height_min`` (the bases neurokit also computes are not used for Q);
- the wavelet steps (resampling to 2 kHz, multiscale transform, P/T peaks, QRS bounds, P/T on-
  and offsets) are neurokit's own functions, and the post-processing of ``ecg_delineate``
  (last index clipped to the signal, non-positive positions dropped) is repeated as is.

The result equals ``nk.ecg_delineate(x, rpeaks, fs, method="dwt")[1]`` on those keys (tested on
the real records in ``../shared/data/ecg``). Tied to the pinned neurokit2 version.
"""

from __future__ import annotations

import numpy as np

NEEDED = ("ECG_P_Onsets", "ECG_R_Onsets", "ECG_R_Offsets", "ECG_T_Offsets")
ANALYSIS_HZ = 2000  # neurokit's dwt analysis rate


def heartbeat_windows(n: int, rpeaks: np.ndarray, fs_hz: int) -> tuple[list[tuple[int, int]], int, float, float]:
    """neurokit's heartbeat epochs as slices of the NaN-padded signal.

    Mirrors ``ecg_segment`` -> ``epochs_create``: window = 60 / mean rate (``signal_rate``), 35 %
    before R; the signal is padded with ``int(duration * fs)`` NaN samples on both sides, and
    epoch ``i`` is ``padded[int(onset + start * fs) : int(onset + end * fs)]`` (onset = R + pad),
    with a time index ``linspace(start, end, len)`` in seconds.

    Returns:
        ``([(lo, hi)] per beat, pad, start_s, end_s)``.

    Raises:
        ValueError: fewer than 4 s of signal (as ``ecg_segment``).
    """
    from neurokit2 import signal_rate

    if n < fs_hz * 4:
        raise ValueError("The data length is too small to be segmented.")
    heart_rate = np.mean(signal_rate(rpeaks, sampling_rate=fs_hz, desired_length=n))
    window_size = 60 / heart_rate
    start_s, end_s = -(0.35 * window_size), (1 - 0.35) * window_size
    pad = int((end_s - start_s) * fs_hz)
    bounds = [(int(r + pad + (start_s * fs_hz)), int(r + pad + (end_s * fs_hz))) for r in rpeaks]
    return bounds, pad, float(start_s), float(end_s)


def q_peaks(x: np.ndarray, rpeaks: np.ndarray, fs_hz: int) -> list:
    """Q peak sample of every beat (NaN where none), as neurokit's dwt delineator computes it.

    Per beat: the samples up to R's time 0, negated; scipy peaks whose prominence is at least
    5 % of the segment's (NaN-skipping) range; the last one.
    """
    from scipy.signal import find_peaks, peak_prominences

    bounds, pad, start_s, end_s = heartbeat_windows(len(x), rpeaks, fs_hz)
    gap = np.full(pad, np.nan, dtype=x.dtype)
    padded = np.concatenate([gap, x, gap])
    out: list = []
    for rpeak, (lo, hi) in zip(rpeaks, bounds, strict=True):
        beat = padded[lo:hi]
        times = np.linspace(start=start_s, stop=end_s, num=len(beat), endpoint=True)
        r = int(np.searchsorted(times, 0.0, side="right"))  # first time label > 0 (the R row)
        seg = beat[:r]  # .loc[:0]
        finite = np.isfinite(seg)
        height_min = 0.05 * (seg[finite].max() - seg[finite].min()) if finite.any() else np.nan
        neg = -1 * seg
        peaks, _ = find_peaks(neg)
        if len(peaks):
            peaks = peaks[~(peak_prominences(neg, peaks)[0] < height_min)]
        out.append(np.nan if len(peaks) == 0 else rpeak - (r - peaks[-1]))
    return out


def dwt_waves(x: np.ndarray, rpeaks: np.ndarray, fs_hz: int) -> dict[str, list]:
    """P onsets, QRS on/offsets and T offsets (samples) of ``nk.ecg_delineate(..., method="dwt")``.

    Args:
        x: ``[n]`` filtered lead (mV).
        rpeaks: ``[B]`` R-peak samples (non-empty).
        fs_hz: sampling rate (integer Hz, as passed to neurokit).

    Returns:
        ``{key: list}`` for :data:`NEEDED`, sanitised exactly as ``ecg_delineate`` returns them.

    Raises:
        ValueError, IndexError, KeyError, ZeroDivisionError: where neurokit raises them.
    """
    import importlib

    from neurokit2.signal import signal_resample

    nkd = importlib.import_module("neurokit2.ecg.ecg_delineate")  # the module (the package attribute is the function)

    x = np.asarray(x)
    rpeaks = np.asarray(rpeaks)
    qpeaks = q_peaks(x, rpeaks, fs_hz)
    ecg = signal_resample(x, sampling_rate=fs_hz, desired_sampling_rate=ANALYSIS_HZ)
    dwtmatr = nkd._dwt_compute_multiscales(ecg, 9)
    r2k = nkd._dwt_resample_points(rpeaks, fs_hz, ANALYSIS_HZ)
    q2k = nkd._dwt_resample_points(qpeaks, fs_hz, ANALYSIS_HZ)
    tpeaks, ppeaks = nkd._dwt_delineate_tp_peaks(ecg, r2k, dwtmatr, sampling_rate=ANALYSIS_HZ)
    qrs_on, qrs_off = nkd._dwt_delineate_qrs_bounds(r2k, dwtmatr, ppeaks, tpeaks, q2k, sampling_rate=ANALYSIS_HZ)
    p_on, _ = nkd._dwt_delineate_tp_onsets_offsets(ppeaks, r2k, dwtmatr, sampling_rate=ANALYSIS_HZ)
    _, t_off = nkd._dwt_delineate_tp_onsets_offsets(tpeaks, r2k, dwtmatr, sampling_rate=ANALYSIS_HZ,
                                                     onset_weight=0.6, duration_onset=0.6)
    waves = {key: nkd._dwt_resample_points(v, ANALYSIS_HZ, desired_sampling_rate=fs_hz)
             for key, v in zip(NEEDED, (p_on, qrs_on, qrs_off, t_off), strict=True)}
    for value in waves.values():  # ecg_delineate's post-processing, verbatim
        if value[-1] >= len(x):
            value[-1] = np.nan
    return {k: [v for v in values if v > 0 or np.isnan(v)] for k, values in waves.items()}
