"""Synthetic 12-lead resting ECGs written as WFDB records (500 Hz, 10 s, 16-bit, 1 uV/unit).

Each beat is a sum of Gaussian P, Q, R, S and T waves plus an ST-segment offset, laid out along
a frontal-plane projection for the limb leads (I and II drawn, III/aVR/aVL/aVF derived by
Einthoven/Goldberger, so the leads are mutually consistent) and a precordial R/S progression
for V1-V6. Heart rate, corrected QT and ST deviation follow the ``cardiac`` latent; baseline
wander, mains hum and white noise make it look like a recording.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clinfusion.synth.phi import PatientPHI, PhiLedger

FS_HZ, DURATION_S = 500, 10.0
LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
# per-wave amplitude (mV) in leads I, II and V1..V6: rows P, Q, R, S, T
_AMP_I_II = np.array([[0.08, 0.15], [-0.05, -0.08], [0.6, 1.1], [-0.15, -0.25], [0.2, 0.3]])
_AMP_V = np.array([
    [0.08, 0.08, 0.08, 0.1, 0.1, 0.1],
    [0.0, 0.0, -0.05, -0.08, -0.1, -0.1],
    [0.25, 0.5, 0.9, 1.4, 1.3, 1.0],
    [-1.0, -1.4, -0.9, -0.5, -0.25, -0.1],
    [-0.1, 0.3, 0.45, 0.5, 0.4, 0.3],
])
_ST_GAIN = np.array([0.3, 0.8, 0.6, 0.3, 1.0, 1.0, 0.9, 0.7])
"""Relative ST deviation in I, II, V1..V6."""


def ecg_params(cardiac: float, rng: np.random.Generator) -> dict[str, float]:
    """Heart rate (bpm), QTc (ms, Bazett) and ST deviation (mV) from the latent plus noise."""
    return {
        "heart_rate_bpm": float(np.clip(72 + 9 * cardiac + 4 * rng.standard_normal(), 42, 140)),
        "qtc_ms": float(np.clip(410 + 22 * cardiac + 10 * rng.standard_normal(), 340, 540)),
        "st_deviation_mv": float(np.clip(-0.05 * cardiac + 0.02 * rng.standard_normal(), -0.25, 0.2)),
    }


def _beats(params: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """R-peak times (s) over the record, with 3% beat-to-beat variability."""
    rr = 60.0 / params["heart_rate_bpm"]
    t, out = rng.uniform(0.1, rr), []
    while t < DURATION_S + rr:
        out.append(t)
        t += rr * (1 + 0.03 * rng.standard_normal())
    return np.array(out)


def simulate_12lead(params: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """The record in mV, shape ``[samples = 5000, 12]`` in :data:`LEADS` order."""
    n = int(FS_HZ * DURATION_S)
    t = np.arange(n) / FS_HZ
    rr = 60.0 / params["heart_rate_bpm"]
    qt = params["qtc_ms"] / 1000 * np.sqrt(rr)
    offsets = np.array([-0.16, -0.03, 0.0, 0.035, qt - 0.14])   # wave centres vs R peak (s)
    widths = np.array([0.022, 0.010, 0.011, 0.012, 0.045])
    amps = np.concatenate([_AMP_I_II, _AMP_V], axis=1) * rng.uniform(0.85, 1.15, (1, 8))
    base = np.zeros((n, 8))
    for r in _beats(params, rng):
        for w in range(5):
            base += np.exp(-0.5 * ((t - r - offsets[w]) / widths[w]) ** 2)[:, None] * amps[w]
        st = ((t > r + 0.05) & (t < r + offsets[4])).astype(float)
        base += st[:, None] * params["st_deviation_mv"] * _ST_GAIN
    lead_i, lead_ii = base[:, 0], base[:, 1]
    limb = np.stack([lead_i, lead_ii, lead_ii - lead_i, -(lead_i + lead_ii) / 2,
                     lead_i - lead_ii / 2, lead_ii - lead_i / 2], axis=1)
    sig = np.concatenate([limb, base[:, 2:]], axis=1)
    f_wander = rng.uniform(0.15, 0.35)
    sig += 0.08 * np.sin(2 * np.pi * f_wander * t + rng.uniform(0, 2 * np.pi, 12)[None, :].T).T
    sig += 0.01 * np.sin(2 * np.pi * 50 * t)[:, None] + 0.015 * rng.standard_normal(sig.shape)
    return sig


def write_ecg(patient_dir: Path, pid: str, latents: dict[str, float], age: int, sex: str, phi: PatientPHI,
              rng: np.random.Generator, ledger: PhiLedger) -> dict[str, float]:
    """Write ``patient_dir/rest12.hea`` and ``rest12.dat``.

    Returns:
        The ECG phenotype (heart rate, QTc, ST deviation).
    """
    import wfdb

    params = ecg_params(latents["cardiac"], rng)
    sig = simulate_12lead(params, rng)
    patient_dir.mkdir(parents=True, exist_ok=True)
    comments = [
        f"Age: {age}",
        f"Sex: {'Female' if sex == 'F' else 'Male'}",
        f"Patient: {ledger.add(pid, 'ecg', 'header comment Patient', phi.full_name)}",
        f"MRN: {ledger.add(pid, 'ecg', 'header comment MRN', phi.mrn)}",
        f"DOB: {ledger.add(pid, 'ecg', 'header comment DOB', phi.birth_date.isoformat())}",
        f"Acquired: {ledger.add(pid, 'ecg', 'header comment Acquired', phi.study_date.strftime('%d-%b-%Y'))}",
        f"Site: {ledger.add(pid, 'ecg', 'header comment Site', phi.institution)}",
        "Dx: resting 12-lead ECG",
    ]
    wfdb.wrsamp("rest12", fs=FS_HZ, units=["mV"] * 12, sig_name=list(LEADS), p_signal=sig,
                fmt=["16"] * 12, adc_gain=[1000.0] * 12, baseline=[0] * 12, comments=comments,
                write_dir=str(patient_dir))
    return params
