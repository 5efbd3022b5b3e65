"""Volume geometry and assembly: DICOM frames -> ``[slices, rows, cols]`` array with an affine.

Axis convention (documented in docs/radiology.md):

- ``Volume.array`` is ``[k, j, i]`` = ``[slice, row, column]`` float32, rescaled (HU for CT),
  slices sorted by increasing position along the slice normal ``n = row_dir x col_dir``.
- ``Volume.affine`` maps NIfTI voxel indices ``(i, j, k)`` (column, row, slice) to RAS mm:
  ``LPS = origin + i * col_mm * row_dir + j * row_mm * col_dir + k * slice_step`` (PS3.3
  C.7.6.2.1.1), then ``RAS = diag(-1, -1, 1) @ LPS``. The NIfTI file stores ``array``
  transposed to ``[i, j, k]``.

Slices are sorted on ``ImagePositionPatient`` projected on the normal, never on InstanceNumber;
spacing comes from the positions (median step), not from SliceThickness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clinfusion.errors import IngestError

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
_TOL_MM = 1e-3
_GAP_FACTOR = 1.5


@dataclass
class Volume:
    """An assembled image volume (see the module docstring for the axis convention).

    Attributes:
        array: ``[k, j, i]`` float32 (HU for CT).
        affine: ``[4, 4]`` voxel ``(i, j, k)`` -> RAS mm.
        modality: DICOM Modality (``CT``, ``MR``, ``CR``, ...) or ``""``.
        warnings: non-fatal findings (gaps, photometric inversion, colour conversion).
    """

    array: np.ndarray
    affine: np.ndarray
    modality: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """(slice, row, column) spacing in mm, from the affine."""
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return float(norms[2]), float(norms[1]), float(norms[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        k, r, c = self.array.shape  # a [k, rows, cols] volume
        return int(k), int(r), int(c)


@dataclass
class Frame:
    """One 2D frame of a series: where it is and how to decode and rescale it.

    Attributes:
        ds: the dataset holding it; index: frame number in a multi-frame dataset (``None`` for
            single-frame); source: file label used in error messages (masked path).
        position: LPS position of the first pixel (mm); row_dir, col_dir: unit vectors.
        pixel_mm: (row spacing, column spacing) in mm; slope, intercept: rescale.
    """

    ds: Any
    index: int | None
    source: str
    position: np.ndarray
    row_dir: np.ndarray
    col_dir: np.ndarray
    pixel_mm: tuple[float, float]
    slope: float
    intercept: float
    shape: tuple[int, int]


class DecodeError(IngestError):
    """One file's pixel data could not be decoded (the file is rejected; the series goes on)."""


def _first(seq_owner: Any, seq: str, attr: str) -> Any:
    if seq_owner is None or seq not in seq_owner or not seq_owner[seq].value:
        return None
    return seq_owner[seq].value[0].get(attr)


def _spacing(ds: Any, shared: Any, per: Any) -> tuple[float, float]:
    ps = _first(per, "PixelMeasuresSequence", "PixelSpacing") or _first(shared, "PixelMeasuresSequence", "PixelSpacing")
    ps = ps or ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    if ps is None or float(ps[0]) <= 0 or float(ps[1]) <= 0:
        return 1.0, 1.0
    return float(ps[0]), float(ps[1])


def _has_spacing(ds: Any) -> bool:
    shared = ds.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in ds else None
    ps = _first(shared, "PixelMeasuresSequence", "PixelSpacing") or ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    return ps is not None and float(ps[0]) > 0 and float(ps[1]) > 0


def _frame(ds: Any, f: int, n: int, shared: Any, per: Any, source: str) -> Frame:
    iop = (_first(per, "PlaneOrientationSequence", "ImageOrientationPatient")
           or _first(shared, "PlaneOrientationSequence", "ImageOrientationPatient")
           or ds.get("ImageOrientationPatient") or [1, 0, 0, 0, 1, 0])
    ipp = _first(per, "PlanePositionSequence", "ImagePositionPatient") or ds.get("ImagePositionPatient")
    if ipp is None:
        ipp = [0.0, 0.0, 0.0] if n == 1 else [0.0, 0.0, float(f)]
    slope = (_first(per, "PixelValueTransformationSequence", "RescaleSlope")
             or _first(shared, "PixelValueTransformationSequence", "RescaleSlope") or ds.get("RescaleSlope") or 1)
    icpt = _first(per, "PixelValueTransformationSequence", "RescaleIntercept")
    icpt = icpt if icpt is not None else _first(shared, "PixelValueTransformationSequence", "RescaleIntercept")
    icpt = icpt if icpt is not None else ds.get("RescaleIntercept", 0)
    iop = np.asarray([float(v) for v in iop], dtype=np.float64)
    pos = np.asarray([float(v) for v in ipp])
    if iop.shape != (6,) or pos.shape != (3,):
        raise ValueError("wrong number of values")
    return Frame(ds, f if n > 1 else None, source, pos, iop[:3], iop[3:], _spacing(ds, shared, per), float(slope),
                 float(icpt), (int(ds.Rows), int(ds.Columns)))


def dataset_frames(ds: Any, source: str) -> list[Frame]:
    """The frames of one dataset (single-frame or enhanced multi-frame), with their geometry.

    A projection image (CR/DX) without ImagePositionPatient/Orientation gets an identity
    orientation at the origin. Pixel spacing falls back to ImagerPixelSpacing, then 1 mm.

    Raises:
        IngestError: a geometry or rescale value (of the functional groups of a multi-frame
            dataset; top-level ones are checked by :mod:`.header` before) is not numbers of the
            right count.
    """
    n = int(ds.get("NumberOfFrames") or 1)
    shared = ds.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in ds else None
    per_frame = ds.PerFrameFunctionalGroupsSequence if "PerFrameFunctionalGroupsSequence" in ds else None
    frames = []
    for f in range(n):
        per = per_frame[f] if per_frame is not None and f < len(per_frame) else None
        try:
            frames.append(_frame(ds, f, n, shared, per, source))
        except (ValueError, TypeError, IndexError, KeyError, AttributeError):  # pydicom's lazy value conversion
            raise IngestError(f"invalid ImageOrientationPatient, ImagePositionPatient, PixelSpacing or "
                              f"RescaleSlope/Intercept for frame {f + 1}/{n} of {source} (functional groups): expected "
                              "numbers of the right count", field="PerFrameFunctionalGroupsSequence") from None
    return frames


def check_consistent(frames: list[Frame]) -> None:
    """Raise if frames differ in orientation, size or pixel spacing (cannot form one volume)."""
    ref = frames[0]
    for fr in frames[1:]:
        if fr.shape != ref.shape:
            raise IngestError(f"inconsistent image size: {fr.source} is {fr.shape}, expected {ref.shape}", field="Rows/Columns")
        if not (np.allclose(fr.row_dir, ref.row_dir, atol=1e-4) and np.allclose(fr.col_dir, ref.col_dir, atol=1e-4)):
            raise IngestError(f"inconsistent orientation in {fr.source}", field="ImageOrientationPatient")
        if not np.allclose(fr.pixel_mm, ref.pixel_mm, atol=1e-4):
            raise IngestError(f"inconsistent pixel spacing in {fr.source}", field="PixelSpacing")


def sort_frames(frames: list[Frame]) -> tuple[list[Frame], float, list[str]]:
    """Sort frames along the slice normal; return them, the slice step (mm) and warnings.

    Raises:
        IngestError: two frames share a position (duplicates / mixed acquisitions).
    """
    normal = np.cross(frames[0].row_dir, frames[0].col_dir)
    d = np.array([fr.position @ normal for fr in frames])
    order = np.argsort(d, kind="stable")
    frames = [frames[i] for i in order]
    if len(frames) < 2:
        return frames, 0.0, []
    steps = np.diff(d[order])
    dup = int((steps < _TOL_MM).sum())
    if dup:
        raise IngestError(f"{dup} duplicate slice position(s) along the normal (mixed acquisitions?)",
                          field="ImagePositionPatient")
    step = float(np.median(steps))
    warnings = []
    for k in np.nonzero(steps > _GAP_FACTOR * step)[0]:
        warnings.append(f"gap of {steps[k]:.2f} mm between slices {k} and {k + 1} (median step {step:.2f} mm)")
    if not warnings and np.ptp(steps) > 0.05 * step:
        warnings.append(f"irregular slice steps {steps.min():.3f}..{steps.max():.3f} mm")
    return frames, step, warnings


def frames_affine(frames: list[Frame], step: float) -> np.ndarray:
    """RAS affine of sorted frames (see module docstring)."""
    f0 = frames[0]
    row_mm, col_mm = f0.pixel_mm
    if len(frames) > 1:
        slice_vec = (frames[-1].position - f0.position) / (len(frames) - 1)
    else:
        thick = float(f0.ds.get("SliceThickness") or 1.0) if f0.index is None else 1.0
        slice_vec = np.cross(f0.row_dir, f0.col_dir) * (thick or 1.0)
    lps = np.eye(4)
    lps[:3, 0] = f0.row_dir * col_mm
    lps[:3, 1] = f0.col_dir * row_mm
    lps[:3, 2] = slice_vec
    lps[:3, 3] = f0.position
    return LPS_TO_RAS @ lps


def _decode(ds: Any, source: str) -> np.ndarray:
    try:
        arr = ds.pixel_array
    except Exception as err:  # decoders raise many types (ValueError, RuntimeError, NotImplementedError)
        ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        name = getattr(ts, "name", str(ts))
        raise DecodeError(f"cannot decode pixel data (transfer syntax {name}): {type(err).__name__}: {err}",
                          file=source, field="PixelData") from None
    if ds.get("SamplesPerPixel", 1) == 3 and arr.shape[-1] == 3:
        arr = arr.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return arr


def _decode_into(frames: list[Frame], out: np.ndarray) -> dict[str, str]:
    """Decode and rescale each frame into ``out[k]``; release pixel bytes; return failures."""
    failed: dict[str, str] = {}
    decoded: dict[int, np.ndarray] = {}
    for k, fr in enumerate(frames):
        try:
            if fr.index is None:
                out[k] = _decode(fr.ds, fr.source)
            else:
                if id(fr.ds) not in decoded:
                    decoded[id(fr.ds)] = _decode(fr.ds, fr.source)
                out[k] = decoded[id(fr.ds)][fr.index]
        except DecodeError as err:
            failed[fr.source] = err.message
            continue
        if fr.slope != 1.0:
            out[k] *= fr.slope
        if fr.intercept != 0.0:
            out[k] += fr.intercept
        if fr.index is None and "PixelData" in fr.ds:
            del fr.ds.PixelData  # keep the header, free the bytes: peak memory ~ output volume
    return failed


def assemble(frames: list[Frame], modality: str = "") -> tuple[Volume, dict[str, str]]:
    """Decode, rescale and stack frames into a :class:`Volume`.

    A file whose pixels cannot be decoded is left out (and returned with its reason); the
    geometry is then recomputed from the remaining frames. Pixel bytes of single-frame datasets
    are released once decoded, so the peak memory is about the float32 output plus the input
    bytes not yet decoded.

    Returns:
        The volume and ``{source: reason}`` of the files left out.

    Raises:
        IngestError: inconsistent geometry, duplicate positions, or no frame could be decoded.
    """
    check_consistent(frames)
    frames, step, warnings = sort_frames(frames)
    rows, cols = frames[0].shape
    out = np.empty((len(frames), rows, cols), dtype=np.float32)
    failed = _decode_into(frames, out)
    if failed:
        keep = [k for k, fr in enumerate(frames) if fr.source not in failed]
        if not keep:
            raise IngestError(f"no frame could be decoded: {next(iter(failed.values()))}", field="PixelData")
        out = out[keep]
        frames, step, warnings = sort_frames([frames[k] for k in keep])
    if frames[0].pixel_mm == (1.0, 1.0) and not _has_spacing(frames[0].ds):
        warnings.append("no valid PixelSpacing/ImagerPixelSpacing: 1 mm assumed")
    if frames[0].ds.get("PhotometricInterpretation") == "MONOCHROME1":
        out = out.max() + out.min() - out
        warnings.append("MONOCHROME1 inverted to MONOCHROME2")
    return Volume(out, frames_affine(frames, step), modality, warnings), failed
