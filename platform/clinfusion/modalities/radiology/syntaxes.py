"""The transfer syntaxes the radiology reader decodes, and what it says about the others.

Decoding is pydicom's; the plugins come from the pinned ``pylibjpeg`` family and ``pyjpegls``
(docs/adr/0004-dicom-decoders.md). This table is the one docs/radiology.md shows; a syntax
outside it is rejected with a reason naming the UID, before any decoder is tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Syntax:
    """One supported transfer syntax.

    Attributes:
        name: PS3.6 name; lossy: the codec may change pixel values; decoder: who decodes it.
    """

    name: str
    lossy: bool
    decoder: str


SUPPORTED: dict[str, Syntax] = {
    "1.2.840.10008.1.2": Syntax("Implicit VR Little Endian", False, "pydicom"),
    "1.2.840.10008.1.2.1": Syntax("Explicit VR Little Endian", False, "pydicom"),
    "1.2.840.10008.1.2.1.99": Syntax("Deflated Explicit VR Little Endian", False, "pydicom (zlib)"),
    "1.2.840.10008.1.2.2": Syntax("Explicit VR Big Endian", False, "pydicom"),
    "1.2.840.10008.1.2.5": Syntax("RLE Lossless", False, "pydicom / pylibjpeg-rle"),
    "1.2.840.10008.1.2.4.50": Syntax("JPEG Baseline (Process 1)", True, "pillow / pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.51": Syntax("JPEG Extended (Process 2 and 4)", True, "pillow / pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.57": Syntax("JPEG Lossless, Non-Hierarchical (Process 14)", False, "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.70": Syntax("JPEG Lossless, SV1 (Process 14, first-order prediction)", False,
                                     "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.80": Syntax("JPEG-LS Lossless", False, "pyjpegls / pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.81": Syntax("JPEG-LS Near-Lossless", True, "pyjpegls / pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.90": Syntax("JPEG 2000 (Lossless Only)", False, "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.4.91": Syntax("JPEG 2000", True, "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.4.201": Syntax("HTJ2K (Lossless Only)", False, "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.4.202": Syntax("HTJ2K with RPCL Options (Lossless Only)", False, "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.4.203": Syntax("HTJ2K", True, "pylibjpeg-openjpeg"),
}
"""Transfer syntax UID -> what it is and who decodes it."""


def transfer_syntax(ds: Any) -> str:
    """The dataset's transfer syntax UID from its file meta (``""`` when absent)."""
    return str(getattr(getattr(ds, "file_meta", None), "get", lambda *_: "")("TransferSyntaxUID", "") or "")


def syntax_problem(ds: Any) -> str:
    """Why a dataset's transfer syntax cannot be decoded (``""`` when it can)."""
    ts = transfer_syntax(ds)
    if not ts:
        return "file meta has no TransferSyntaxUID (0002,0010); expected one of the supported syntaxes"
    if ts not in SUPPORTED:
        from pydicom.uid import UID

        name = UID(ts).name
        known = f" ({name})" if name != ts else " (not a DICOM transfer syntax)"
        return f"unsupported transfer syntax {ts}{known} in file meta (0002,0010); see docs/radiology.md"
    return ""


def is_lossy(ds: Any) -> bool:
    """True when the syntax is lossy or the header says the pixels were lossy-compressed before."""
    syn = SUPPORTED.get(transfer_syntax(ds))
    return bool(syn and syn.lossy) or str(ds.get("LossyImageCompression", "") or "") == "01"
