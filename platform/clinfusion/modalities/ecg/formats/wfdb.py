"""WFDB records (``.hea`` + ``.dat``/``.mat``/...), read with the ``wfdb`` package in physical units."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clinfusion.errors import IngestError
from clinfusion.modalities.ecg.formats.wfdb_header import validate_header
from clinfusion.modalities.ecg.record import RawEcg, mv_per_unit


def sniff(path: Path) -> bool:
    """A ``.hea`` text header."""
    return path.suffix.lower() == ".hea"


def read(path: Path, options: object = None, rel: str = "") -> RawEcg:
    """Read a WFDB record from its header path.

    Raises:
        IngestError: unreadable header or signal file, or a header field the reader needs that
            is missing or malformed (see :mod:`.wfdb_header`; the message names the field).
    """
    import wfdb

    rel = rel or path.name
    # before wfdb, which substitutes defaults (250 Hz, gain 200) for fields it cannot parse
    validate_header(path, rel, getattr(options, "max_header_line_chars", 10_000))
    try:
        rec = wfdb.rdrecord(str(path.with_suffix("")), physical=True)
    except FileNotFoundError as err:
        raise IngestError(f"signal file named by the header is missing: {Path(str(err.filename)).name}",
                          file=rel, field="signal file") from None
    except Exception as err:  # wfdb raises bare ValueError/IndexError/... on a malformed header
        raise IngestError(f"corrupt WFDB header or signal file: {type(err).__name__}: {err}",
                          file=rel, field="header") from None
    if rec.p_signal is None or rec.p_signal.ndim != 2 or rec.p_signal.shape[0] == 0:
        raise IngestError("record has no samples", file=rel, field="signal")
    if not rec.fs or rec.fs <= 0:
        raise IngestError(f"sampling frequency {rec.fs!r} must be > 0", file=rel, field="fs")
    units = rec.units or [None] * rec.n_sig
    factors = np.array([mv_per_unit(u, file=rel, field=f"units[{i}]") for i, u in enumerate(units)])
    return RawEcg(
        signal=np.asarray(rec.p_signal, dtype=np.float64) * factors[None, :],
        fs_hz=float(rec.fs),
        channels=[str(n) for n in rec.sig_name],
        comments=[str(c) for c in (rec.comments or [])],
        fmt="wfdb",
    )
