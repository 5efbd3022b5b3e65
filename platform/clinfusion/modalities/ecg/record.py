"""The in-memory raw recording every format reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RawEcg:
    """One recording as read from its files, before any processing.

    Attributes:
        signal: ``[n_samples, n_channels]`` float64 in mV (NaN where the file marks no data).
        fs_hz: sampling rate in Hz.
        channels: channel names as written in the file (one per column).
        comments: free-text header lines (PHI possible; :mod:`..deid` keeps only allowlisted facts).
        attributes: structured, already non-identifying facts from the file (e.g. ``sex``, ``age``).
        fmt: format name (``wfdb``, ``dicom``, ``csv``).
        reference: measurements stored in the file by the recording device (e.g. DICOM
            waveform annotations: ``{"rr_ms": 982, "qrs_ms": 75}``); used for validation only.
    """

    signal: np.ndarray
    fs_hz: float
    channels: list[str]
    comments: list[str] = field(default_factory=list)
    attributes: dict[str, object] = field(default_factory=dict)
    fmt: str = ""
    reference: dict[str, float] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return float(self.signal.shape[0] / self.fs_hz)


_UNIT_TO_MV = {"mv": 1.0, "millivolt": 1.0, "uv": 1e-3, "µv": 1e-3, "microvolt": 1e-3, "v": 1e3, "volt": 1e3, "nv": 1e-6}


def mv_per_unit(unit: str | None, *, file: str = "", field: str = "units") -> float:
    """Factor that converts a value in ``unit`` to millivolts (blank units mean mV, as in WFDB).

    Raises:
        IngestError: the unit is not a voltage.
    """
    from clinfusion.errors import IngestError

    key = (unit or "mV").strip().lower().replace("μ", "µ")
    if key in ("", "nu"):
        return 1.0
    if key not in _UNIT_TO_MV:
        raise IngestError(f"unit {unit!r} is not a voltage; expected one of V, mV, uV", file=file, field=field)
    return _UNIT_TO_MV[key]
