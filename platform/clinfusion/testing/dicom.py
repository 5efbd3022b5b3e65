"""Tiny DICOM series with planted PHI, plus deliberately broken files, for tests and benchmarks.

The phantom is a chest-like CT in HU: air outside (-1000), a soft-tissue body ellipse (+40),
two lungs (-850) and a spherical nodule (+30) in the right lung. Every PHI string planted in the
headers is listed in :data:`PLANTED_PHI` so tests can search every byte written for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"


@dataclass(frozen=True)
class PlantedPHI:
    """Identifying values written into every header (and a private tag, a sequence, an overlay)."""

    patient_name: str = "DOE^JANE^QUINCY"
    patient_id: str = "MRN80417733"
    birth_date: str = "19580412"
    study_date: str = "20210317"
    institution: str = "Saint Mungo Memorial Hospital"
    referring: str = "HOUSE^GREGORY"
    accession: str = "ACC55502211"
    serial: str = "SN-XK-90210"
    comments: str = "Jane Quincy Doe, call 555-0199"
    private_value: str = "PRIVATE-MRN80417733"
    nested_name: str = "WATSON^JOHN"

    def strings(self) -> list[str]:
        """Every planted string that must never reach a workspace (names also split at ``^``)."""
        vals = [v for v in vars(self).values()]
        parts = [p for v in (self.patient_name, self.referring, self.nested_name) for p in v.split("^")]
        return sorted(set(vals + parts))


PLANTED_PHI = PlantedPHI()


def ct_phantom(n_slices: int, rows: int, cols: int, *, nodule: bool = True) -> np.ndarray:
    """HU phantom of shape ``[n_slices, rows, cols]`` (int16).

    The nodule (a short cylinder, radius ~ rows/8 voxels) sits around the middle slice in the right
    lung (image left).
    """
    z, y, x = np.mgrid[0:n_slices, 0:rows, 0:cols].astype(np.float32)
    cy, cx = (rows - 1) / 2, (cols - 1) / 2
    hu = np.full((n_slices, rows, cols), -1000, np.int16)
    body = ((y - cy) / (0.42 * rows)) ** 2 + ((x - cx) / (0.46 * cols)) ** 2 <= 1
    hu[body] = 40
    for side in (-1, 1):
        lung = ((y - cy) / (0.3 * rows)) ** 2 + ((x - cx - side * 0.2 * cols) / (0.14 * cols)) ** 2 <= 1
        hu[lung] = -850
    if nodule:
        r = max(rows / 8, 1.5)
        disc = (y - cy) ** 2 + (x - cx + 0.2 * cols) ** 2 <= r**2
        hu[disc & (np.abs(z - (n_slices - 1) / 2) <= max(1, n_slices // 4))] = 30
    return hu


def _base_dataset(phi: PlantedPHI, sop_class: str, study_uid: str, series_uid: str, frame_uid: str):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence as Seq
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName = phi.patient_name
    ds.PatientID = phi.patient_id
    ds.PatientBirthDate = phi.birth_date
    ds.PatientSex = "F"
    ds.OtherPatientIDs = phi.patient_id + "-B"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = phi.study_date
    ds.StudyTime = "101500"
    ds.InstitutionName = phi.institution
    ds.ReferringPhysicianName = phi.referring
    ds.AccessionNumber = phi.accession
    ds.DeviceSerialNumber = phi.serial
    ds.ImageComments = phi.comments
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
    ds.Manufacturer = "ClinFusionTest"
    region = Dataset()
    region.CodeValue, region.CodingSchemeDesignator, region.CodeMeaning = "T-D3000", "SRT", "Chest"
    region.ReferringPhysicianName = phi.nested_name
    region.InstitutionName = phi.institution
    ds.AnatomicRegionSequence = Seq([region])
    block = ds.private_block(0x0009, "CLINFUSION TEST", create=True)
    block.add_new(0x01, "LO", phi.private_value)
    ds.add_new(0x60000010, "US", 4)
    ds.add_new(0x60000011, "US", 4)
    ds.add_new(0x60003000, "OW", b"\x01\x00" * 1)
    ds.add_new(0x50000005, "US", 1)
    ds.add_new(0x50003000, "OB", phi.patient_id.encode() + b"\x00" * (len(phi.patient_id) % 2))
    return ds


def _set_pixels(ds, hu2d: np.ndarray) -> None:
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = hu2d.shape[-2:]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.PixelData = (hu2d.astype(np.int32) + 1024).astype(np.uint16).tobytes()


def write_ct_series(
    out_dir: str | Path,
    *,
    n_slices: int = 8,
    rows: int = 32,
    cols: int = 32,
    pixel_mm: tuple[float, float] = (0.8, 0.8),
    slice_mm: float = 2.5,
    origin_mm: Sequence[float] = (-12.4, -12.4, -40.0),
    phi: PlantedPHI = PLANTED_PHI,
    study_uid: str | None = None,
    series_number: int = 1,
    modality: str = "CT",
    description: str = "CHEST AXIAL",
    skip: Sequence[int] = (),
    prefix: str = "IM",
    hu: np.ndarray | None = None,
) -> list[Path]:
    """Write an axial single-frame series, one file per slice, file order shuffled against z.

    Args:
        out_dir: folder to write into (created).
        n_slices, rows, cols: volume shape ``[n_slices, rows, cols]``.
        pixel_mm: (row spacing, column spacing) in mm; slice_mm: distance between slices in mm.
        origin_mm: LPS position of the first voxel of slice 0.
        phi: planted identifiers.
        study_uid: reuse a study UID (several series of one study).
        skip: slice indices left out (to make a gap).
        hu: HU volume ``[n_slices, rows, cols]`` (default: :func:`ct_phantom`).

    Returns:
        The written files (slice order is *not* file order: InstanceNumber runs backwards).
    """
    import pydicom
    from pydicom.uid import generate_uid

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vol = ct_phantom(n_slices, rows, cols) if hu is None else hu
    study_uid = study_uid or generate_uid()
    series_uid, frame_uid = generate_uid(), generate_uid()
    files = []
    for k in range(n_slices):
        if k in skip:
            continue
        ds = _base_dataset(phi, CT_IMAGE_STORAGE, study_uid, series_uid, frame_uid)
        ds.Modality, ds.SeriesDescription, ds.SeriesNumber = modality, description, series_number
        ds.InstanceNumber = n_slices - k
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [float(origin_mm[0]), float(origin_mm[1]), float(origin_mm[2]) + k * slice_mm]
        ds.PixelSpacing = [pixel_mm[0], pixel_mm[1]]
        ds.SliceThickness = slice_mm
        _set_pixels(ds, vol[k])
        path = out / f"{prefix}{(7 * k + 3) % 1000:04d}"
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        files.append(path)
    return files


def write_enhanced_ct(out_path: str | Path, *, n_frames: int = 6, rows: int = 24, cols: int = 24,
                      pixel_mm: float = 0.7, slice_mm: float = 3.0, phi: PlantedPHI = PLANTED_PHI) -> Path:
    """Write a multi-frame (enhanced) CT with per-frame positions and shared orientation/spacing.

    Frames are stored in reverse z order so a reader must sort them by position.
    """
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as Seq
    from pydicom.uid import generate_uid

    vol = ct_phantom(n_frames, rows, cols)
    ds = _base_dataset(phi, ENHANCED_CT_IMAGE_STORAGE, generate_uid(), generate_uid(), generate_uid())
    ds.Modality, ds.SeriesNumber, ds.NumberOfFrames = "CT", 7, n_frames
    shared = Dataset()
    orient, measures, transform = Dataset(), Dataset(), Dataset()
    orient.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    measures.PixelSpacing, measures.SliceThickness = [pixel_mm, pixel_mm], slice_mm
    transform.RescaleIntercept, transform.RescaleSlope, transform.RescaleType = -1024, 1, "HU"
    shared.PlaneOrientationSequence = Seq([orient])
    shared.PixelMeasuresSequence = Seq([measures])
    shared.PixelValueTransformationSequence = Seq([transform])
    ds.SharedFunctionalGroupsSequence = Seq([shared])
    per_frame, order = [], list(range(n_frames))[::-1]
    for k in order:
        fg, pos = Dataset(), Dataset()
        pos.ImagePositionPatient = [0.0, 0.0, k * slice_mm]
        fg.PlanePositionSequence = Seq([pos])
        per_frame.append(fg)
    ds.PerFrameFunctionalGroupsSequence = Seq(per_frame)
    _set_pixels(ds, vol[0])
    ds.PixelData = (vol[order].astype(np.int32) + 1024).astype(np.uint16).tobytes()
    del ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pydicom.dcmwrite(out, ds, enforce_file_format=True)
    return out


def write_bad_files(out_dir: str | Path, good_file: str | Path) -> dict[str, Path]:
    """Write one of each bad input beside a series: truncated, not DICOM, no pixel data, DICOMDIR.

    Args:
        out_dir: folder to write into.
        good_file: a valid DICOM file to derive the truncated and pixel-less copies from.

    Returns:
        ``{"truncated", "not_dicom", "no_pixels", "dicomdir"}`` -> path.
    """
    import pydicom

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    raw = Path(good_file).read_bytes()
    paths = {"truncated": out / "truncated.dcm", "not_dicom": out / "notes.dcm", "no_pixels": out / "nopix.dcm",
             "dicomdir": out / "DICOMDIR"}
    paths["truncated"].write_bytes(raw[: len(raw) - len(raw) // 3])
    paths["not_dicom"].write_text("this is a text file with a .dcm name\n")
    ds = pydicom.dcmread(good_file)
    del ds.PixelData
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    pydicom.dcmwrite(paths["no_pixels"], ds, enforce_file_format=True)
    paths["dicomdir"].write_bytes(b"\x00" * 128 + b"DICM")
    return paths
