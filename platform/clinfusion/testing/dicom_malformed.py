"""DICOM files with one malformed header each, and the reason the reader must give for it.

Each case starts from a valid file and breaks one thing the reader needs: the transfer syntax in
the file meta, the raw bytes of an attribute (written as a ``RawDataElement``, so the file holds
exactly those bytes, as a faulty modality would write them), or the Pixel Data length.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

# name -> (what to break, a phrase the file's reason must contain)
CASES: dict[str, str] = {
    "no_transfer_syntax": "file meta has no TransferSyntaxUID (0002,0010)",
    "unknown_transfer_syntax": "unsupported transfer syntax 1.2.3.999",
    "rows_empty": "invalid Rows (0028,0010): expected an integer 1..65535, found an empty value",
    "columns_two_values": "invalid Columns (0028,0011)",
    "bits_allocated_12": "invalid BitsAllocated (0028,0100): expected 1, 8, 16, 32 or 64, found 12",
    "pixel_representation_2": "invalid PixelRepresentation (0028,0103): expected 0 (unsigned) or 1",
    "rescale_slope_text": "invalid RescaleSlope (0028,1053)",
    "rescale_intercept_nan": "invalid RescaleIntercept (0028,1052): expected 1 finite number(s)",
    "position_two_values": "invalid ImagePositionPatient (0020,0032): expected 3 number(s), found 2",
    "orientation_parallel": "invalid ImageOrientationPatient (0020,0037)",
    "pixel_data_too_long": "pixel data length mismatch in PixelData (7FE0,0010)",
    "pixel_data_too_short": "pixel data length mismatch in PixelData (7FE0,0010): truncated",
}


def _raw(ds: Any, tag: int, vr: str, value: bytes) -> None:
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    if len(value) % 2:
        value += b" "
    ds[tag] = RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)


def _no_ts(ds: Any) -> None:
    del ds.file_meta.TransferSyntaxUID


def _unknown_ts(ds: Any) -> None:
    ds.file_meta.TransferSyntaxUID = "1.2.3.999"


_BREAK: dict[str, Callable[[Any], None]] = {
    "no_transfer_syntax": _no_ts,
    "unknown_transfer_syntax": _unknown_ts,
    "rows_empty": lambda ds: _raw(ds, 0x00280010, "US", b""),
    "columns_two_values": lambda ds: _raw(ds, 0x00280011, "US", b"\x08\x00\x08\x00"),
    "bits_allocated_12": lambda ds: _raw(ds, 0x00280100, "US", b"\x0c\x00"),
    "pixel_representation_2": lambda ds: _raw(ds, 0x00280103, "US", b"\x02\x00"),
    "rescale_slope_text": lambda ds: _raw(ds, 0x00281053, "DS", b"one"),
    "rescale_intercept_nan": lambda ds: _raw(ds, 0x00281052, "DS", b"nan"),
    "position_two_values": lambda ds: _raw(ds, 0x00200032, "DS", b"1.0\\2.0"),
    "orientation_parallel": lambda ds: _raw(ds, 0x00200037, "DS", b"1\\0\\0\\1\\0\\0"),
    "pixel_data_too_long": lambda ds: setattr(ds, "PixelData", ds.PixelData + b"\x00" * 64),
    "pixel_data_too_short": lambda ds: setattr(ds, "PixelData", ds.PixelData[: len(ds.PixelData) // 2]),
}


def write_malformed(good_file: str | Path, out_dir: str | Path, names: list[str] | None = None) -> dict[str, Path]:
    """Write one broken copy of ``good_file`` per case (each with its own SOP Instance UID).

    Args:
        good_file: a valid uncompressed single-frame DICOM file.
        out_dir: folder to write into (created).
        names: cases to write (default: all of :data:`CASES`).

    Returns:
        case name -> written path (``<case>.dcm``).
    """
    import pydicom
    from pydicom.uid import generate_uid

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in names or list(CASES):
        ds = pydicom.dcmread(good_file)
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        _BREAK[name](ds)
        path = out / f"{name}.dcm"
        pydicom.dcmwrite(path, ds, enforce_file_format=name != "no_transfer_syntax")
        written[name] = path
    return written
