"""Validate the header attributes the radiology reader relies on, before any of them is used.

pydicom converts element values lazily: an ``IS``/``DS`` that is not a number, a ``US`` with the
wrong length or a value of the wrong multiplicity raises (``ValueError``, ``TypeError``,
``struct.error``) only when the value is first read, deep inside volume assembly. This module
reads each needed attribute once and turns every such problem into a reason naming the attribute,
its tag and what was expected. Values of text VRs are never echoed in a reason (a malformed value
may hold anything, identifiers included); small integers are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

_PHOTOMETRIC = frozenset({"MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT",
                          "PALETTE COLOR", "YBR_PARTIAL_420"})


def _tag(keyword: str) -> str:
    from pydicom.datadict import tag_for_keyword

    t = tag_for_keyword(keyword) or 0
    return f"({t >> 16:04X},{t & 0xFFFF:04X})"


class HeaderProblem(Exception):
    """A needed attribute is unreadable or out of range (message: the reason)."""


def _bad(keyword: str, expected: str, found: str = "") -> HeaderProblem:
    tail = f", found {found}" if found else ""
    return HeaderProblem(f"invalid {keyword} {_tag(keyword)}: expected {expected}{tail}")


def _value(ds: Any, keyword: str) -> Any:
    """The converted value (``None`` if absent or empty); a conversion failure becomes a reason."""
    if keyword not in ds:
        return None
    try:
        elem = ds[keyword]
        value = elem.value
    except Exception:  # pydicom's conversion of the raw bytes: ValueError, TypeError, struct.error, ...
        raise _bad(keyword, "a value pydicom can read for its VR (the element's bytes do not convert)") from None
    if value is None or value == "" or value == b"":
        return None
    return value


def _numbers(ds: Any, keyword: str, vm: int) -> list[float] | None:
    """``vm`` finite numbers, or ``None`` when the attribute is absent."""
    value = _value(ds, keyword)
    if value is None:
        return None
    items = list(value) if vm > 1 and not isinstance(value, str | bytes) else [value]
    try:
        nums = [float(v) for v in items]
    except (TypeError, ValueError):
        raise _bad(keyword, f"{vm} number(s)", "a value that is not a number") from None
    if len(nums) != vm:
        raise _bad(keyword, f"{vm} number(s)", f"{len(nums)}")
    if not all(math.isfinite(v) for v in nums):
        raise _bad(keyword, f"{vm} finite number(s)", "NaN or infinity")
    return nums


def _integer(ds: Any, keyword: str, ok: Callable[[int], bool], expected: str, required: bool = False) -> int | None:
    value = _value(ds, keyword)
    if value is None:
        if keyword in ds and required:
            raise _bad(keyword, expected, "an empty value")
        if required:
            raise HeaderProblem(f"missing {keyword} {_tag(keyword)}: expected {expected}")
        return None
    if not isinstance(value, int | str) or isinstance(value, bool):
        raise _bad(keyword, f"one {expected}", "several values or a non-integer")
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise _bad(keyword, expected, "a value that is not an integer") from None
    if not ok(n):
        raise _bad(keyword, expected, str(n) if abs(n) < 10**9 else "an out-of-range integer")
    return n


def _check_image_pixel(ds: Any) -> None:
    _integer(ds, "Rows", lambda n: 0 < n <= 65535, "an integer 1..65535", required=True)
    _integer(ds, "Columns", lambda n: 0 < n <= 65535, "an integer 1..65535", required=True)
    bits = _integer(ds, "BitsAllocated", lambda n: n in (1, 8, 16, 32, 64), "1, 8, 16, 32 or 64")
    _integer(ds, "BitsStored", lambda n: 0 < n <= (bits or 64), f"an integer 1..{bits or 64} (BitsAllocated)")
    _integer(ds, "PixelRepresentation", lambda n: n in (0, 1), "0 (unsigned) or 1 (two's complement)")
    _integer(ds, "SamplesPerPixel", lambda n: n in (1, 3), "1 or 3")
    _integer(ds, "NumberOfFrames", lambda n: n > 0, "a positive integer")
    photometric = _value(ds, "PhotometricInterpretation")
    if photometric is not None and str(photometric).strip().upper() not in _PHOTOMETRIC:
        raise _bad("PhotometricInterpretation", "a PS3.3 C.7.6.3.1.2 term such as MONOCHROME2")


def _check_geometry(ds: Any) -> None:
    slope = _numbers(ds, "RescaleSlope", 1)
    if slope is not None and slope[0] == 0:
        raise _bad("RescaleSlope", "a non-zero number", "0")
    _numbers(ds, "RescaleIntercept", 1)
    _numbers(ds, "ImagePositionPatient", 3)
    iop = _numbers(ds, "ImageOrientationPatient", 6)
    if iop is not None:
        row, col = iop[:3], iop[3:]
        norm = lambda v: math.sqrt(sum(x * x for x in v))  # noqa: E731
        cross = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]]
        if norm(row) < 1e-3 or norm(col) < 1e-3 or norm(cross) < 1e-3:
            raise _bad("ImageOrientationPatient", "two non-zero, non-parallel direction cosines")
    _numbers(ds, "PixelSpacing", 2)
    _numbers(ds, "ImagerPixelSpacing", 2)
    _numbers(ds, "SliceThickness", 1)


def header_problem(ds: Any) -> str:
    """Why the dataset's image attributes cannot be used (``""`` when they can).

    Checks Rows, Columns, BitsAllocated, BitsStored, PixelRepresentation, SamplesPerPixel,
    NumberOfFrames, PhotometricInterpretation, RescaleSlope/Intercept, ImagePositionPatient,
    ImageOrientationPatient, (Imager)PixelSpacing and SliceThickness: readable for their VR, of
    the right multiplicity and in range.
    """
    try:
        _check_image_pixel(ds)
        _check_geometry(ds)
    except HeaderProblem as err:
        return str(err)
    return ""
