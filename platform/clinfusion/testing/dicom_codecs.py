"""Re-encode test DICOM files into every common transfer syntax (for decoder round-trip tests).

Encoders: pydicom's own (RLE, deflate, big-endian byte order), ``pyjpegls`` (JPEG-LS),
``pylibjpeg-openjpeg`` (JPEG 2000) through :meth:`pydicom.dataset.Dataset.compress`, and
``imagecodecs`` (libjpeg-turbo for JPEG Baseline/Extended/Lossless, OpenJPH for HTJ2K) whose
codestreams are encapsulated here (PS3.5 A.4). Every entry of :data:`SYNTAXES` says whether it
is lossless and, if not, the HU tolerance a decoded volume must meet against its uncompressed
twin (mean and max absolute error; measured on :func:`clinfusion.testing.dicom.ct_phantom`
with margin).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Codec:
    """One transfer syntax as the tests write it.

    Attributes:
        uid: transfer syntax UID.
        lossless: decoded HU must equal the twin's exactly.
        bits8: the syntax needs 8-bit samples (JPEG Baseline): the twin is stored 8-bit too.
        mean_hu, max_hu: tolerated mean / max absolute HU error of a lossy syntax.
    """

    uid: str
    lossless: bool = True
    bits8: bool = False
    mean_hu: float = 0.0
    max_hu: float = 0.0


SYNTAXES: dict[str, Codec] = {
    "explicit_little": Codec("1.2.840.10008.1.2.1"),
    "implicit_little": Codec("1.2.840.10008.1.2"),
    "explicit_big": Codec("1.2.840.10008.1.2.2"),
    "deflated": Codec("1.2.840.10008.1.2.1.99"),
    "rle": Codec("1.2.840.10008.1.2.5"),
    "jpeg_baseline": Codec("1.2.840.10008.1.2.4.50", lossless=False, bits8=True, mean_hu=8.0, max_hu=48.0),
    "jpeg_extended": Codec("1.2.840.10008.1.2.4.51", lossless=False, mean_hu=3.0, max_hu=12.0),
    "jpeg_lossless_p14": Codec("1.2.840.10008.1.2.4.57"),
    "jpeg_lossless_sv1": Codec("1.2.840.10008.1.2.4.70"),
    "jpegls_lossless": Codec("1.2.840.10008.1.2.4.80"),
    "jpegls_near_lossless": Codec("1.2.840.10008.1.2.4.81", lossless=False, mean_hu=2.0, max_hu=2.0),
    "j2k_lossless": Codec("1.2.840.10008.1.2.4.90"),
    "j2k_lossy": Codec("1.2.840.10008.1.2.4.91", lossless=False, mean_hu=10.0, max_hu=50.0),
    "htj2k_lossless": Codec("1.2.840.10008.1.2.4.201"),
    "htj2k_lossy": Codec("1.2.840.10008.1.2.4.203", lossless=False, mean_hu=3.0, max_hu=16.0),
}
"""Name -> codec, every syntax docs/radiology.md lists as supported."""


def to_8bit(ds: Any) -> Any:
    """Store a 16-bit CT dataset as 8-bit samples, ``HU = 8 * stored - 1024`` (in place).

    JPEG Baseline holds 8-bit samples only; its uncompressed twin is made with this function so
    the comparison measures the codec, not the requantisation.
    """
    arr = ds.pixel_array.astype(np.float64) * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
    stored = np.clip(np.round((arr + 1024) / 8), 0, 255).astype(np.uint8)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.RescaleSlope, ds.RescaleIntercept = 8, -1024
    ds.PixelData = stored.tobytes()
    ds["PixelData"].VR = "OB"
    return ds


def _encapsulate(ds: Any, uid: str, frame: bytes, *, lossy: bool) -> Any:
    from pydicom.encaps import encapsulate

    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = uid
    if lossy:
        ds.LossyImageCompression = "01"
    return ds


def _imagecodecs(fn_name: str, **kwargs: Any) -> Callable[[Any, str], Any]:
    def encode(ds: Any, uid: str) -> Any:
        import imagecodecs

        arr = ds.pixel_array
        frame = getattr(imagecodecs, fn_name)(np.ascontiguousarray(arr), **kwargs)
        return _encapsulate(ds, uid, bytes(frame), lossy=not SYNTAXES_BY_UID[uid].lossless)
    return encode


def _compress(**kwargs: Any) -> Callable[[Any, str], Any]:
    def encode(ds: Any, uid: str) -> Any:
        ds.compress(uid, **kwargs)
        return ds
    return encode


def _native(ds: Any, uid: str) -> Any:
    ds.file_meta.TransferSyntaxUID = uid
    return ds


def _big_endian(ds: Any, uid: str) -> Any:
    from pydicom.dataset import Dataset
    from pydicom.uid import UID

    # pydicom refuses to re-encode a dataset read as little endian, so copy its (decoded) elements
    # into a new one; OW values are written as given: the pixel words are byte-swapped here.
    new = Dataset()
    for elem in ds:
        if not (elem.tag.group == 0x6000 and elem.tag.element == 0x3000):  # overlay OW bytes: not swapped, dropped
            new.add(elem)
    new.file_meta, new.preamble = ds.file_meta, b"\0" * 128
    arr = np.frombuffer(ds.PixelData, dtype="<u2" if int(ds.BitsAllocated) == 16 else "u1")
    new.PixelData = arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    new.file_meta.TransferSyntaxUID = UID(uid)
    return new


_ENCODERS: dict[str, Callable[[Any, str], Any]] = {
    "explicit_little": _native,
    "implicit_little": _native,
    "explicit_big": _big_endian,
    "deflated": _native,
    "rle": _compress(),
    "jpeg_baseline": _imagecodecs("jpeg8_encode", level=98),
    "jpeg_extended": _imagecodecs("jpeg8_encode", level=95, bitspersample=12),
    "jpeg_lossless_p14": _imagecodecs("jpeg8_encode", lossless=True, predictor=6, bitspersample=16),
    "jpeg_lossless_sv1": _imagecodecs("jpeg8_encode", lossless=True, predictor=1, bitspersample=16),
    "jpegls_lossless": _compress(),
    "jpegls_near_lossless": _compress(jls_error=2),
    "j2k_lossless": _compress(),
    "j2k_lossy": _compress(j2k_psnr=[80]),
    "htj2k_lossless": _imagecodecs("htj2k_encode", level=None),
    "htj2k_lossy": _imagecodecs("htj2k_encode", level=0.0001),
}

SYNTAXES_BY_UID = {c.uid: c for c in SYNTAXES.values()}


def encode_dataset(ds: Any, syntax: str) -> Any:
    """Re-encode an uncompressed single-frame dataset into ``syntax`` (a key of :data:`SYNTAXES`), in place.

    Raises:
        KeyError: unknown syntax name.
    """
    codec = SYNTAXES[syntax]
    if codec.bits8 and int(ds.BitsAllocated) != 8:
        to_8bit(ds)
    if syntax == "jpeg_extended":
        ds.BitsStored, ds.HighBit = 12, 11  # 12-bit process 4: stored values must fit 12 bits
    return _ENCODERS[syntax](ds, codec.uid)


def encode_files(files: list[Path], syntax: str, out_dir: Path) -> list[Path]:
    """Write each of ``files`` re-encoded into ``syntax`` under ``out_dir`` (same names)."""
    import pydicom

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in files:
        ds = encode_dataset(pydicom.dcmread(src), syntax)
        dst = out_dir / Path(src).name
        pydicom.dcmwrite(dst, ds, enforce_file_format=True)
        written.append(dst)
    return written
