"""Which backend reads a file, decided by its content (magic bytes and a format probe).

Order: DICOM (``DICM`` at byte 128 and the WSI SOP class) -> OpenSlide's own format probe
(SVS, NDPI, MRXS, SCN, tiled TIFF, ...) -> an explanation of why the file is not a slide
(a known non-slide image format, a TIFF that is truncated or not tiled, unknown content).
"""

from __future__ import annotations

from pathlib import Path

from clinfusion.errors import IngestError

_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"BM": "BMP image",
    b"%PDF": "PDF document",
    b"PK\x03\x04": "ZIP archive",
}
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def is_dicom(path: Path) -> bool:
    """True when the file has the DICOM Part 10 preamble (``DICM`` at offset 128)."""
    with open(path, "rb") as fh:
        head = fh.read(132)
    return len(head) == 132 and head[128:132] == b"DICM"


def _tiff_problem(path: Path) -> str:
    """Why a TIFF-looking file is not a readable slide."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            if not tif.pages:
                return "TIFF has no readable image (truncated or corrupt)"
            page = tif.pages[0]
            if not getattr(page, "is_tiled", False):  # a TiffFrame has no is_tiled: not a tiled page
                return f"TIFF of {page.shape} is not tiled: not a whole-slide image (expected a tiled pyramidal TIFF)"
            size = path.stat().st_size
            ends = [o + n for p in tif.pages for o, n in zip(p.dataoffsets, p.databytecounts, strict=False)]
            if ends and max(ends) > size:
                return f"TIFF is truncated: image data extends to byte {max(ends)} of a {size}-byte file"
            return "TIFF is tiled but OpenSlide does not recognise it as a slide"
    except Exception as err:  # tifffile raises many types on broken files; each means "not readable"
        return f"TIFF is truncated or corrupt ({type(err).__name__}: {err})"


def detect_backend(path: Path) -> str:
    """Name of the backend (``"openslide"`` or ``"dicom"``) that reads ``path``.

    Raises:
        IngestError: not a whole-slide image; the message names the content found.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as err:
        raise IngestError(f"cannot read file: {err.strerror}", file=path, field="file") from None
    if size == 0:
        raise IngestError("empty file; expected a whole-slide image", file=path, field="content")
    if is_dicom(path):
        from pydicom import dcmread

        from clinfusion.modalities.pathology.backends.dicom_backend import WSI_SOP_CLASS

        try:
            sop = str(dcmread(str(path), stop_before_pixels=True).SOPClassUID)
        except Exception as err:  # pydicom raises many types on broken headers
            raise IngestError(f"unreadable DICOM header ({type(err).__name__})", file=path, field="content") from None
        if sop != WSI_SOP_CLASS:
            raise IngestError(f"DICOM SOP class {sop} is not VL Whole Slide Microscopy ({WSI_SOP_CLASS})",
                              file=path, field="SOPClassUID")
        return "dicom"
    import openslide

    if openslide.OpenSlide.detect_format(str(path)) is not None:
        return "openslide"
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise IngestError(f"content is a {what} (magic bytes), not a whole-slide image", file=path, field="content")
    if head[:4] in _TIFF_MAGIC:
        raise IngestError(_tiff_problem(path), file=path, field="content")
    raise IngestError("unknown content: not a whole-slide format OpenSlide or DICOM-WSI can read", file=path, field="content")
