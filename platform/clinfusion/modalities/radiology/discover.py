"""Classify a patient's radiology files: DICOM datasets, NIfTI files, or rejected with a reason.

Each file is read once, whole (``pydicom.dcmread``), so the pixel bytes are at hand for volume
assembly without a second pass over the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clinfusion.cohort.discovery import DiscoveredFile
from clinfusion.modalities.radiology.header import header_problem
from clinfusion.modalities.radiology.syntaxes import syntax_problem

NIFTI_SUFFIXES = (".nii", ".nii.gz")
DICOMDIR_REASON = "DICOMDIR index (ignored)"
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def is_nifti(name: str) -> bool:
    """True for ``.nii`` / ``.nii.gz`` names."""
    return name.lower().endswith(NIFTI_SUFFIXES)


@dataclass
class DicomFile:
    """A readable DICOM file with pixel data.

    Attributes:
        file: where it came from; ds: the dataset (with pixel bytes); label: masked path.
    """

    file: DiscoveredFile
    ds: Any
    label: str


@dataclass
class Scan:
    """Result of :func:`scan_files`."""

    dicoms: list[DicomFile] = field(default_factory=list)
    niftis: list[DiscoveredFile] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)


def _read(path: Any) -> Any:
    """Read a DICOM file; files without the DICM preamble are accepted only if they look like images."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path)
    except InvalidDicomError:
        ds = pydicom.dcmread(path, force=True)
        if "SOPClassUID" not in ds or "Rows" not in ds:
            raise InvalidDicomError("no DICOM preamble and no image attributes") from None
        _infer_syntax(ds)
        return ds


def _infer_syntax(ds: Any) -> None:
    """A raw dataset without any file meta (no DICM preamble) can only hold native pixel data: its
    transfer syntax is the encoding pydicom detected while reading it."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    if getattr(ds, "file_meta", None) is not None and len(ds.file_meta):
        return
    implicit, little = ds.original_encoding
    if implicit is None or little is None:
        return
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                      ExplicitVRLittleEndian if little else ExplicitVRBigEndian)


def _expected_bytes(ds: Any) -> int | None:
    """Bytes of native (uncompressed) pixel data, or ``None`` for encapsulated syntaxes."""
    ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if ts is not None and ts.is_compressed:
        return None
    n = int(ds.get("NumberOfFrames") or 1)
    bits = int(ds.get("BitsAllocated") or 16)
    return (n * int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel") or 1) * bits + 7) // 8


RLE_UID = "1.2.840.10008.1.2.5"
RLE_MAX_RATIO = 64
"""Largest RLE expansion: a replicate run stores up to 128 bytes in 2 (DICOM PS3.5 G.3.1)."""
DEFAULT_MAX_DECODED_BYTES = 2 << 30
"""Default budget of decoded pixel bytes per DICOM file (``max_decoded_bytes``): 2 GiB."""


def _declared(ds: Any, field: str, default: int) -> int:
    try:
        value = int(ds.get(field) or default)
    except (TypeError, ValueError):
        return -1
    return value


def declared_size_problem(ds: Any, max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES) -> str:
    """Why the declared image size cannot be trusted (``""`` when it can), checked before decoding.

    The decoded size is Rows x Columns x NumberOfFrames x SamplesPerPixel x BitsAllocated / 8;
    it must fit ``max_decoded_bytes`` and, for RLE data, the at most 64-fold expansion of the
    bytes present (uncompressed data is checked exactly by :func:`check_dataset`).
    """
    dims = {f: _declared(ds, f, d) for f, d in (("Rows", 0), ("Columns", 0), ("NumberOfFrames", 1),
                                                  ("SamplesPerPixel", 1), ("BitsAllocated", 16))}
    bad = [f for f, v in dims.items() if v <= 0 or (f == "BitsAllocated" and v > 64)]
    if bad:
        return f"{bad[0]} {ds.get(bad[0])!r} is not a valid image dimension"
    decoded = dims["Rows"] * dims["Columns"] * dims["NumberOfFrames"] * dims["SamplesPerPixel"] * dims["BitsAllocated"] // 8
    fields = "Rows x Columns x NumberOfFrames x SamplesPerPixel x BitsAllocated"
    if decoded > max_decoded_bytes:
        return (f"declared image size {fields} = {decoded} bytes exceeds max_decoded_bytes {max_decoded_bytes} "
                "(not decoded)")
    ts = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    if ts == RLE_UID and "PixelData" in ds:
        have = len(ds.PixelData or b"")
        if decoded > RLE_MAX_RATIO * have:
            return (f"declared image size {fields} = {decoded} bytes cannot come from {have} bytes of RLE data "
                    f"(at most {RLE_MAX_RATIO}x; not decoded)")
    return ""


def check_dataset(ds: Any, max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES) -> str:
    """Why a dataset cannot give an image (``""`` when it can)."""
    if not any(k in ds for k in _PIXEL_KEYWORDS):
        sop = ds.get("SOPClassUID")
        return f"no pixel data (SOP class {getattr(sop, 'name', sop) or 'unknown'})"
    problem = syntax_problem(ds) or header_problem(ds) or declared_size_problem(ds, max_decoded_bytes)
    if problem:
        return problem
    if "PixelData" in ds:
        return pixel_length_problem(ds)
    return ""


def pixel_length_problem(ds: Any) -> str:
    """Why native Pixel Data does not hold exactly Rows x Columns x NumberOfFrames x SamplesPerPixel
    x BitsAllocated / 8 bytes (one trailing pad byte allowed, PS3.5 7.1.1); ``""`` when it does."""
    expected = _expected_bytes(ds)
    try:
        have = len(ds.PixelData or b"")
    except Exception:  # the element's bytes cannot be read (e.g. an undefined length on native data)
        return "invalid PixelData (7FE0,0010): its value cannot be read for the transfer syntax"
    if expected is None:
        return "" if have else "empty encapsulated PixelData (7FE0,0010): no fragment to decode"
    pad = expected + (expected % 2)
    if have < expected:
        return (f"pixel data length mismatch in PixelData (7FE0,0010): truncated pixel data, {have} of {expected} "
                "bytes (Rows x Columns x NumberOfFrames x SamplesPerPixel x BitsAllocated / 8)")
    if have > pad:
        return (f"pixel data length mismatch in PixelData (7FE0,0010): {have} bytes, expected {expected} "
                "(Rows x Columns x NumberOfFrames x SamplesPerPixel x BitsAllocated / 8)")
    return ""


def scan_files(files: list[DiscoveredFile], label: Any, max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES) -> Scan:
    """Sort files into DICOM images, NIfTI files and rejections.

    Args:
        files: one patient's radiology files.
        label: ``DiscoveredFile -> str`` giving the (masked) name used in reasons.
        max_decoded_bytes: budget of decoded pixel bytes per file (see :func:`declared_size_problem`).

    Returns:
        The scan; rejected maps ``file.rel`` to a reason without any header content.
    """
    from pydicom.errors import InvalidDicomError

    out = Scan()
    for f in files:
        if f.path.name.upper() == "DICOMDIR":
            out.rejected[f.rel] = DICOMDIR_REASON
            continue
        if is_nifti(f.path.name):
            out.niftis.append(f)
            continue
        try:
            ds = _read(f.path)
        except InvalidDicomError:
            out.rejected[f.rel] = "not DICOM (no DICM preamble and no readable image header)"
            continue
        except (EOFError, OSError, ValueError, KeyError, TypeError) as err:
            out.rejected[f.rel] = f"truncated or corrupt DICOM ({type(err).__name__})"
            continue
        reason = check_dataset(ds, max_decoded_bytes)
        if reason:
            out.rejected[f.rel] = reason
            continue
        out.dicoms.append(DicomFile(f, ds, label(f)))
    return out
