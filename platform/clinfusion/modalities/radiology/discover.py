"""Classify a patient's radiology files: DICOM datasets, NIfTI files, or rejected with a reason.

Each file is read once, whole (``pydicom.dcmread``), so the pixel bytes are at hand for volume
assembly without a second pass over the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clinfusion.cohort.discovery import DiscoveredFile

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
        return ds


def _expected_bytes(ds: Any) -> int | None:
    """Bytes of native (uncompressed) pixel data, or ``None`` for encapsulated syntaxes."""
    ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if ts is not None and ts.is_compressed:
        return None
    n = int(ds.get("NumberOfFrames") or 1)
    bits = int(ds.get("BitsAllocated") or 16)
    return n * int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel") or 1) * bits // 8


def check_dataset(ds: Any) -> str:
    """Why a dataset cannot give an image (``""`` when it can)."""
    if not any(k in ds for k in _PIXEL_KEYWORDS):
        sop = ds.get("SOPClassUID")
        return f"no pixel data (SOP class {getattr(sop, 'name', sop) or 'unknown'})"
    if "PixelData" in ds:
        expected = _expected_bytes(ds)
        have = len(ds.PixelData or b"")
        if expected is not None and have < expected:
            return f"truncated pixel data ({have} of {expected} bytes)"
    return ""


def scan_files(files: list[DiscoveredFile], label: Any) -> Scan:
    """Sort files into DICOM images, NIfTI files and rejections.

    Args:
        files: one patient's radiology files.
        label: ``DiscoveredFile -> str`` giving the (masked) name used in reasons.

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
        reason = check_dataset(ds)
        if reason:
            out.rejected[f.rel] = reason
            continue
        out.dicoms.append(DicomFile(f, ds, label(f)))
    return out
