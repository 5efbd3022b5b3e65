"""CSV ECGs: one column per lead with lead names in the header row, optional time column.

The sampling rate comes from the reader option ``csv_fs_hz`` or, failing that, from a time
column (``time``, ``t``, ``time_s``, ``seconds``; in seconds). Units come from ``csv_units``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clinfusion.errors import IngestError
from clinfusion.modalities.ecg.leads import canonical_lead
from clinfusion.modalities.ecg.record import RawEcg, mv_per_unit

_TIME_COLUMNS = ("time", "t", "time_s", "seconds", "sec", "timestamp_s")


def sniff(path: Path) -> bool:
    """A text file whose first line is comma/semicolon separated and names at least one ECG lead."""
    if path.suffix.lower() not in (".csv", ".txt", ".tsv"):
        return False
    try:
        with path.open("r", encoding="utf-8", errors="strict") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError):
        return False
    sep = _separator(first)
    return any(canonical_lead(c) is not None for c in first.strip().split(sep))


def _separator(line: str) -> str:
    return max((",", ";", "\t"), key=line.count)


def _fs_from_time(t: np.ndarray, rel: str) -> float:
    dt = np.diff(t)
    if len(dt) < 2 or not np.all(dt > 0):
        raise IngestError("time column must increase strictly", file=rel, field="time")
    return float(round(1.0 / np.median(dt), 3))


def read(path: Path, options: object = None, rel: str = "") -> RawEcg:
    """Read a CSV ECG.

    Raises:
        IngestError: no rate (neither ``csv_fs_hz`` nor a time column), non-numeric cells.
    """
    import pandas as pd

    rel = rel or path.name
    with path.open("r", encoding="utf-8") as fh:
        sep = _separator(fh.readline())
    try:
        df = pd.read_csv(path, sep=sep)
    except Exception as err:  # pandas raises ParserError, UnicodeDecodeError, ... for broken text
        raise IngestError(f"unreadable CSV: {err}", file=rel) from None
    cols = {c: str(c).strip() for c in df.columns}
    time_col = next((c for c, s in cols.items() if s.lower() in _TIME_COLUMNS), None)
    fs = getattr(options, "csv_fs_hz", None)
    if fs is None and time_col is not None:
        fs = _fs_from_time(pd.to_numeric(df[time_col], errors="coerce").to_numpy(float), rel)
    if fs is None:
        raise IngestError("CSV ECG has no sampling rate: set modalities.ecg.options.csv_fs_hz in cohort.yaml "
                          "or add a time column in seconds", file=rel, field="csv_fs_hz")
    leads = [c for c in df.columns if c != time_col]
    values = df[leads].apply(pd.to_numeric, errors="coerce")
    bad = [cols[c] for c in leads if values[c].isna().mean() > 0.5]
    if bad:
        raise IngestError(f"columns {bad} are not numeric; expected one numeric column per lead", file=rel,
                          field=",".join(bad))
    factor = mv_per_unit(getattr(options, "csv_units", "mV"), file=rel, field="csv_units")
    return RawEcg(signal=values.to_numpy(np.float64) * factor, fs_hz=float(fs), channels=[cols[c] for c in leads],
                  fmt="csv")
