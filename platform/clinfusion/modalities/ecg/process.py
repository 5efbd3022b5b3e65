"""From a raw recording to the normalised, measured record: the pure core of the ECG reader.

Order matters: quality flags are computed on the raw leads at the file's own rate (clipping is
a property of the recorded values, which filtering would smooth away), then every lead is
resampled, band-passed and notched, measured, and cut into windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clinfusion.errors import IngestError
from clinfusion.modalities.ecg import quality
from clinfusion.modalities.ecg.leads import STANDARD_LEADS, map_leads
from clinfusion.modalities.ecg.measurements import measure
from clinfusion.modalities.ecg.options import EcgOptions
from clinfusion.modalities.ecg.quality_matrix import record_flags
from clinfusion.modalities.ecg.record import RawEcg
from clinfusion.modalities.ecg.signal import bandpass, fill_gaps, notch, resample, windows

MIN_DURATION_S = 2.0


@dataclass
class ProcessedEcg:
    """A normalised record.

    Shapes:
        windows: ``[W, 12, S]`` float32 mV at ``fs_hz`` (absent leads are zero rows: see ``present``).
        valid: ``[W]`` valid samples per window (the last window may be zero-padded).
        present: ``[12]`` bool.
        extra: ``[W, K, S]`` float32 mV of non-standard leads named ``extra_names``.
    """

    windows: np.ndarray
    valid: np.ndarray
    present: np.ndarray
    derived: list[str]
    extra: np.ndarray
    extra_names: list[str]
    fs_hz: float
    fs_original_hz: float
    duration_s: float
    quality: dict[str, list[str]]
    measurements: dict[str, Any] = field(default_factory=dict)

    @property
    def usable(self) -> np.ndarray:
        """``[12]`` bool: present and neither flat nor clipped."""
        bad = {n for n, f in self.quality.items() if "flat" in f or "clipped" in f}
        return self.present & np.array([n not in bad for n in STANDARD_LEADS])


def condition(x: np.ndarray, fs_in: float, opts: EcgOptions) -> np.ndarray:
    """Resample ``[C, n]`` to ``opts.fs_hz``, then band-pass and notch (zero-phase)."""
    y = resample(x, fs_in, opts.fs_hz)
    if y.shape[-1] < 16:
        return y
    y = bandpass(y, opts.fs_hz, *opts.bandpass_hz)
    if opts.notch_hz:
        y = notch(y, opts.fs_hz, float(opts.notch_hz))
    return y


def _quality(leads: np.ndarray, names: list[str], keep: np.ndarray, fs: float, notch_hz: float | None):
    idx = np.flatnonzero(keep)
    flags = record_flags(leads[idx], fs, notch_hz) if idx.size else []
    return {names[i]: f for i, f in zip(idx, flags, strict=True)}


def process(raw: RawEcg, opts: EcgOptions, rel: str = "") -> ProcessedEcg:
    """Map leads, flag quality, condition, measure and window one recording.

    Raises:
        IngestError: no recognisable lead, shorter than 2 s, or every lead flat.
    """
    if raw.signal.ndim != 2 or raw.signal.shape[1] != len(raw.channels):
        raise IngestError(f"signal shape {raw.signal.shape} does not match {len(raw.channels)} channels", file=rel)
    if raw.duration_s < MIN_DURATION_S:
        raise IngestError(f"record lasts {raw.duration_s:.2f} s; expected at least {MIN_DURATION_S} s", file=rel,
                          field="duration")
    sig = fill_gaps(raw.signal.T)
    ls = map_leads(sig.T, raw.channels)
    if not ls.present.any():
        raise IngestError(f"no standard ECG lead among channels {raw.channels}; expected names such as I, II, "
                          "aVR, V1 (case and spelling variants accepted)", file=rel, field="channels")
    q = _quality(ls.leads, list(STANDARD_LEADS), ls.present, raw.fs_hz, opts.notch_hz)
    q_extra = _quality(ls.extra, ls.extra_names, np.ones(len(ls.extra_names), bool), raw.fs_hz, opts.notch_hz)
    if all("flat" in q[n] for n in q):
        raise IngestError(f"every lead is flat (no signal) in leads {sorted(q)}", file=rel, field="signal")
    leads = condition(ls.leads, raw.fs_hz, opts) * ls.present[:, None]
    extra = condition(ls.extra, raw.fs_hz, opts) if len(ls.extra_names) else np.zeros((0, leads.shape[1]))
    out = ProcessedEcg(np.zeros(0), np.zeros(0), ls.present, ls.derived, np.zeros(0), ls.extra_names, opts.fs_hz,
                       raw.fs_hz, raw.duration_s, {**q, **q_extra})
    out.measurements = measure(leads, out.usable, opts.fs_hz, opts.delineate_s)
    if quality.reversal_suspected(out.measurements["qrs_net_mv"]):
        for lead in ("I", "aVR"):
            out.quality[lead].append("lead_reversal")
    n_win = int(round(opts.window_s * opts.fs_hz))
    out.windows, out.valid = windows(leads, n_win, opts.max_windows)
    out.extra = windows(extra, n_win, opts.max_windows)[0]
    return out
