"""DICOM waveform ECGs (12-lead ECG, general ECG, ambulatory), read with pydicom ``waveform_array``.

Only the signal, channel labels, units, sex and age are taken; every other patient or study
attribute (name, ids, dates, institution) is never copied, which is how DICOM patient attributes
are scrubbed here: the workspace gets no DICOM file, only the normalised signal.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from clinfusion.errors import IngestError
from clinfusion.modalities.ecg.record import RawEcg, mv_per_unit

# Machine measurements in WaveformAnnotationSequence (concept name -> our key), for validation.
_REFERENCE = {"rr interval": "rr_ms", "pr interval": "pr_ms", "qrs duration": "qrs_ms", "qt interval": "qt_ms",
              "qtc interval": "qtc_ms", "qrs axis": "axis_deg"}


def sniff(path: Path) -> bool:
    """A DICOM Part-10 file (``DICM`` at byte 128)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def _pick_group(ds) -> int:
    """Index of the rhythm multiplex group (else the one with most samples x channels)."""
    groups = list(ds.WaveformSequence)
    for i, g in enumerate(groups):
        if "RHYTHM" in str(g.get("MultiplexGroupLabel", "")).upper():
            return i
    return int(np.argmax([int(g.NumberOfWaveformSamples) * int(g.NumberOfWaveformChannels) for g in groups]))


def _channel_name(ch, i: int) -> str:
    src = ch.get("ChannelSourceSequence")
    if src:
        return str(src[0].get("CodeMeaning", "") or src[0].get("CodeValue", f"ch{i}"))
    return str(ch.get("ChannelLabel", f"ch{i}"))


def reference_measurements(ds) -> dict[str, float]:
    """Device measurements stored in the WaveformAnnotationSequence (``rr_ms``, ``qrs_ms``, ...)."""
    out: dict[str, float] = {}
    for ann in ds.get("WaveformAnnotationSequence", []):
        names = ann.get("ConceptNameCodeSequence")
        value = ann.get("NumericValue")
        if not names or value is None:
            continue
        key = _REFERENCE.get(str(names[0].get("CodeMeaning", "")).strip().lower())
        if key and key not in out:
            try:
                out[key] = float(value)
            except TypeError:  # a multi-valued NumericValue: take the first
                out[key] = float(value[0])
    return out


def _age_years(text: str) -> float | None:
    m = re.fullmatch(r"(\d{1,3})([DWMY])", text.strip().upper())
    if not m:
        return None
    return round(int(m.group(1)) / {"D": 365.25, "W": 52.18, "M": 12.0, "Y": 1.0}[m.group(2)], 1)


def read(path: Path, options: object = None, rel: str = "") -> RawEcg:
    """Read the rhythm waveform of a DICOM ECG.

    Raises:
        IngestError: not a waveform object, or the waveform cannot be decoded.
    """
    import pydicom

    rel = rel or path.name
    try:
        ds = pydicom.dcmread(str(path))
    except Exception as err:  # pydicom raises InvalidDicomError, EOFError, ... on broken files
        raise IngestError(f"unreadable DICOM file: {err}", file=rel) from None
    if "WaveformSequence" not in ds or not ds.WaveformSequence:
        raise IngestError("DICOM object has no WaveformSequence (not a waveform ECG)", file=rel,
                          field="WaveformSequence")
    idx = _pick_group(ds)
    group = ds.WaveformSequence[idx]
    try:
        arr = np.asarray(ds.waveform_array(idx), dtype=np.float64)
    except Exception as err:  # pydicom raises ValueError/NotImplementedError for odd encodings
        raise IngestError(f"cannot decode waveform: {err}", file=rel, field=f"WaveformSequence[{idx}]") from None
    chans = list(group.ChannelDefinitionSequence)
    factors = []
    for i, ch in enumerate(chans):
        units = ch.get("ChannelSensitivityUnitsSequence")
        unit = str(units[0].get("CodeValue", "mV")) if units else "mV"
        factors.append(mv_per_unit(unit, file=rel, field=f"ChannelDefinitionSequence[{i}].units"))
    attrs: dict[str, object] = {}
    if str(ds.get("PatientSex", "")).upper() in ("M", "F"):
        attrs["sex"] = str(ds.PatientSex).upper()
    age = _age_years(str(ds.get("PatientAge", "")))
    if age is not None:
        attrs["age"] = age
    return RawEcg(
        signal=arr * np.asarray(factors)[None, :],
        fs_hz=float(group.SamplingFrequency),
        channels=[_channel_name(ch, i) for i, ch in enumerate(chans)],
        attributes=attrs,
        fmt="dicom",
        reference=reference_measurements(ds),
    )
