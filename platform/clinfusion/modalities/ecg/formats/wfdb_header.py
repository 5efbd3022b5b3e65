"""Validate the fields of a WFDB header the ECG reader relies on, before ``wfdb`` parses it.

``wfdb.rdrecord`` silently substitutes defaults for fields it cannot parse: a sampling rate
that is not a number became 250 Hz (a 10 s record at 500 Hz read as 20 s, its heart rate
halved), a non-numeric gain became 200 ADC units/mV. This module reads the header text
itself (PhysioNet WFDB header format, ``header(5)``) and raises :class:`IngestError` naming the
field when:

- the record line has no sampling frequency, or one that is not a positive number
  (``fs``; the ``fs/counter(base)`` form is accepted);
- the number of signals or samples is not a non-negative integer (``n_sig``, ``n_samples``);
- a signal line's gain is not a positive number, its baseline not an integer, its units empty
  (``gain[i]``, ``baseline[i]``, ``units[i]``);
- a line is longer than ``max_line_chars`` (``header``; bounds comment scrubbing);
- a signal file is too short for the declared number of samples (``n_samples``), for the
  storage formats whose size per sample is fixed (8, 16, 24, 32, 61, 80, 160, 212, 310, 311).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from clinfusion.errors import IngestError

BYTES_PER_SAMPLE: dict[str, float] = {"8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2, "212": 1.5,
                                      "310": 4 / 3, "311": 4 / 3}
"""Bytes per sample of each fixed-size WFDB storage format."""
_FS_RE = re.compile(r"^(?P<fs>[^/(]+)(?:/[^(]*)?(?:\([^)]*\))?$")
_GAIN_RE = re.compile(r"^(?P<gain>[^(/]*)(?:\((?P<base>[^)]*)\))?(?:/(?P<units>.*))?$")
_FMT_RE = re.compile(r"^(?P<fmt>\d+)(?:x(?P<spf>\d+))?(?::\d+)?(?:\+(?P<offset>\d+))?$")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _lines(path: Path, rel: str, max_line_chars: int) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise IngestError(f"header unreadable ({type(err).__name__})", file=rel, field="header") from None
    for n, line in enumerate(text.splitlines(), 1):
        if len(line) > max_line_chars:
            raise IngestError(f"line {n} longer than {max_line_chars} characters (max_header_line_chars)", file=rel,
                              field="header")
    return [ln.split("#", 1)[0].strip() for ln in text.splitlines() if ln.split("#", 1)[0].strip()]


def _record_line(line: str, rel: str) -> tuple[int, int | None]:
    """``(n_sig, n_samples or None)`` of the record line, after checking ``fs``."""
    parts = line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        raise IngestError("number of signals is not a non-negative integer", file=rel, field="n_sig")
    if len(parts) < 3:
        raise IngestError("no sampling frequency on the record line (wfdb would assume 250 Hz)", file=rel, field="fs")
    m = _FS_RE.match(parts[2])
    fs = _number(m["fs"]) if m else None
    if fs is None or fs <= 0:
        raise IngestError(f"sampling frequency {parts[2][:20]!r} is not a positive number", file=rel, field="fs")
    if len(parts) >= 4 and not parts[3].isdigit():
        raise IngestError(f"number of samples {parts[3][:20]!r} is not a non-negative integer", file=rel,
                          field="n_samples")
    return int(parts[1]), (int(parts[3]) if len(parts) >= 4 else None)


def _signal_line(line: str, i: int, rel: str) -> tuple[str, str, int, int]:
    """``(file name, format, samples per frame, byte offset)`` of signal line ``i``, after checks."""
    parts = line.split()
    if len(parts) < 2:
        raise IngestError(f"signal line {i} has no storage format", file=rel, field=f"format[{i}]")
    fm = _FMT_RE.match(parts[1])
    if fm is None:
        raise IngestError(f"storage format {parts[1][:20]!r} of signal {i} is not a WFDB format", file=rel,
                          field=f"format[{i}]")
    if len(parts) >= 3:
        gm = _GAIN_RE.match(parts[2])
        gain = _number(gm["gain"]) if gm and gm["gain"] else None
        if gm is None or gain is None or gain < 0:  # gm None -> gain None: the same test, narrowed for mypy
            raise IngestError(f"gain {parts[2][:20]!r} of signal {i} is not a non-negative number", file=rel,
                              field=f"gain[{i}]")
        if gm["base"] is not None and not re.fullmatch(r"[+-]?\d+", gm["base"].strip()):
            raise IngestError(f"baseline {gm['base'][:20]!r} of signal {i} is not an integer", file=rel,
                              field=f"baseline[{i}]")
        if gm["units"] is not None and not gm["units"].strip():
            raise IngestError(f"units of signal {i} are empty", file=rel, field=f"units[{i}]")
    return parts[0], fm["fmt"], int(fm["spf"] or 1), int(fm["offset"] or 0)


def validate_header(path: Path, rel: str = "", max_line_chars: int = 10_000) -> None:
    """Check a single-segment WFDB header and the size of its signal files.

    Args:
        path: the ``.hea`` file.
        rel: name used in messages.
        max_line_chars: longest header line (comment lines included) accepted.

    Raises:
        IngestError: a field the reader needs is missing or malformed (``field`` names it).
    """
    rel = rel or path.name
    lines = _lines(path, rel, max_line_chars)
    if not lines:
        raise IngestError("empty header", file=rel, field="header")
    if "/" in lines[0].split()[0]:
        return  # a multi-segment record: the segment headers are checked when wfdb reads them
    n_sig, n_samples = _record_line(lines[0], rel)
    if len(lines) < 1 + n_sig:
        raise IngestError(f"header declares {n_sig} signals but has {len(lines) - 1} signal lines", file=rel,
                          field="n_sig")
    per_file: dict[str, list[tuple[str, int, int]]] = {}
    for i, line in enumerate(lines[1:1 + n_sig]):
        name, fmt, spf, offset = _signal_line(line, i, rel)
        per_file.setdefault(name, []).append((fmt, spf, offset))
    if n_samples:
        _check_sizes(path.parent, per_file, n_samples, rel)


def _check_sizes(folder: Path, per_file: dict[str, list[tuple[str, int, int]]], n_samples: int, rel: str) -> None:
    for name, signals in per_file.items():
        if any(fmt not in BYTES_PER_SAMPLE for fmt, _, _ in signals) or name == "~":
            continue
        target = folder / name
        if not target.is_file():
            continue  # reported by the reader as a missing signal file
        need = signals[0][2] + math.ceil(sum(BYTES_PER_SAMPLE[f] * spf for f, spf, _ in signals) * n_samples)
        have = target.stat().st_size
        if have < need:
            raise IngestError(f"signal file {name} has {have} bytes, fewer than the {need} the header declares "
                              f"({n_samples} samples)", file=rel, field="n_samples")
