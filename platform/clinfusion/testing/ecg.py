"""Synthetic ECGs and writers (WFDB, CSV) for tests and benchmarks.

:func:`synthetic_ecg` builds beats from Gaussian P, Q, R, S, T waves on leads I and II and
derives III, aVR, aVL, aVF exactly (Einthoven/Goldberger), so lead derivation can be checked;
V1-V6 are scaled copies with a growing R wave. The true heart rate is the one requested.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

LEADS_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
# (centre s relative to R, width s, amplitude mV in lead II) of P, Q, R, S, T.
_WAVES = ((-0.16, 0.025, 0.15), (-0.03, 0.010, -0.10), (0.0, 0.012, 1.2), (0.03, 0.010, -0.25), (0.25, 0.045, 0.30))


def _beat_train(n: int, fs_hz: float, hr_bpm: float, scale: tuple[float, ...]) -> np.ndarray:
    t = np.arange(n) / fs_hz
    x = np.zeros(n)
    rr = 60.0 / hr_bpm
    for r in np.arange(0.4, n / fs_hz, rr):
        for (c, w, a), s in zip(_WAVES, scale, strict=True):
            x += s * a * np.exp(-0.5 * ((t - r - c) / w) ** 2)
    return x


def synthetic_ecg(duration_s: float = 10.0, fs_hz: float = 500.0, hr_bpm: float = 72.0, *, noise_mv: float = 0.01,
                  seed: int = 0) -> np.ndarray:
    """A 12-lead ECG.

    Returns:
        ``[n_samples, 12]`` float64 mV in ``LEADS_12`` order.
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fs_hz))
    ii = _beat_train(n, fs_hz, hr_bpm, (1, 1, 1, 1, 1))
    i = _beat_train(n, fs_hz, hr_bpm, (0.6, 0.5, 0.55, 0.4, 0.5))
    leads = [i, ii, ii - i, -(i + ii) / 2, i - ii / 2, ii - i / 2]
    for k in range(6):
        leads.append(_beat_train(n, fs_hz, hr_bpm, (0.5, 0.3, 0.2 + 0.25 * k, 1.5 - 0.2 * k, 0.6 + 0.1 * k)))
    x = np.stack(leads, axis=1)
    return x + rng.normal(0, noise_mv, x.shape)


def write_wfdb(directory: str | Path, name: str, signal: np.ndarray, fs_hz: float, leads: tuple[str, ...] | list[str],
               comments: list[str] | None = None, fmt: str = "16") -> Path:
    """Write a WFDB record (``name.hea`` + ``name.dat``) in mV; returns the header path."""
    import wfdb

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(name, fs=fs_hz, units=["mV"] * signal.shape[1], sig_name=list(leads), p_signal=signal,
                fmt=[fmt] * signal.shape[1], comments=comments or [], write_dir=str(directory))
    return directory / f"{name}.hea"


def write_csv(path: str | Path, signal: np.ndarray, leads: tuple[str, ...] | list[str], *, scale: float = 1.0,
              fs_hz: float | None = None) -> Path:
    """Write a CSV ECG (one column per lead, values times ``scale``; a ``time`` column when ``fs_hz``)."""
    import pandas as pd

    df = pd.DataFrame(signal * scale, columns=list(leads))
    if fs_hz:
        df.insert(0, "time", np.arange(len(df)) / fs_hz)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.5f")
    return path
