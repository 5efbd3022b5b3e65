"""ECG file formats, chosen by content: ``FORMATS`` maps a name to its ``(sniff, read)`` pair.

Each format module exposes ``sniff(path) -> bool`` (cheap look at the first bytes) and
``read(path, options) -> RawEcg``. :func:`detect` tries them in registry order.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from clinfusion.errors import IngestError

FORMATS: dict[str, str] = {
    "wfdb": "clinfusion.modalities.ecg.formats.wfdb",
    "dicom": "clinfusion.modalities.ecg.formats.dicom",
    "csv": "clinfusion.modalities.ecg.formats.csv",
}


def format_module(name: str):
    """The module of a registered format.

    Raises:
        IngestError: unknown format name (lists the valid ones).
    """
    if name not in FORMATS:
        raise IngestError(f"unknown ECG format {name!r}; expected one of {sorted(FORMATS)}", field="format")
    return importlib.import_module(FORMATS[name])


def detect(path: Path, rel: str = "") -> str:
    """Name of the format whose ``sniff`` accepts ``path``.

    Raises:
        IngestError: no format recognises the file.
    """
    for name in FORMATS:
        if format_module(name).sniff(path):
            return name
    if path.suffix.lower() in (".dat", ".mat", ".atr", ".xyz"):
        raise IngestError("WFDB signal/annotation file without a matching .hea header", file=rel or path.name,
                          field="header")
    raise IngestError(f"not a recognised ECG file; expected one of {sorted(FORMATS)} (WFDB .hea, DICOM waveform, "
                      "CSV with lead-name header)", file=rel or path.name, field="format")
