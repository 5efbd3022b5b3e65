"""Synthetic chest CT series written with pydicom, with PHI where scanners put it.

The volume is a body-like phantom in Hounsfield units (air, subcutaneous fat, soft tissue, two
lungs with texture, a vertebral body) plus one spherical lesion in the right lung whose radius
follows ``tumour_burden`` and whose density follows ``proliferation``. The field of view is
360 mm and the series always covers 80 mm of z, so spacing depends on the scale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clinfusion.synth.config import ScaleSpec
from clinfusion.synth.phi import PatientPHI, PhiLedger

FOV_MM, Z_EXTENT_MM = 360.0, 80.0
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
PRIVATE_CREATOR = "CLINFUSION SYNTH"


def lesion_params(burden: float, prolif: float, rng: np.random.Generator) -> dict[str, float]:
    """Lesion radius (mm), mean density (HU) and centre offset (mm) from the latents plus noise."""
    return {
        "lesion_radius_mm": float(np.clip(9.0 + 4.0 * burden + 1.5 * rng.standard_normal(), 3.0, 26.0)),
        "lesion_hu": float(np.clip(30.0 + 25.0 * prolif + 8.0 * rng.standard_normal(), -60.0, 150.0)),
        "lesion_dx_mm": float(rng.uniform(-12, 12)),
        "lesion_dy_mm": float(rng.uniform(-20, 20)),
        "lesion_dz_mm": float(rng.uniform(-8, 8)),
    }


def phantom_hu(sizes: ScaleSpec, lesion: dict[str, float], rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    """The CT volume in HU.

    Returns:
        ``(volume, pixel_spacing_mm, slice_thickness_mm)``; volume shape ``[S, N, N]`` float32
        with rows along +y (posterior) and columns along +x (patient left).
    """
    n, s = sizes.ct_size_px, sizes.ct_slices
    px, dz = FOV_MM / n, Z_EXTENT_MM / s
    c = (np.arange(n) - (n - 1) / 2) * px
    y, x = np.meshgrid(c, c, indexing="ij")
    z = (np.arange(s) - (s - 1) / 2) * dz
    body = (x / 160) ** 2 + (y / 115) ** 2
    base = np.full((n, n), -1000.0, np.float32)
    base[body <= 1] = -100.0                      # subcutaneous fat
    base[(x / 150) ** 2 + (y / 105) ** 2 <= 1] = 40.0  # soft tissue
    base[(x ** 2 + (y - 75) ** 2) <= 15 ** 2] = 700.0  # vertebral body
    lung_tex = rng.normal(0, 40, (n, n)).astype(np.float32)
    vol = np.empty((s, n, n), np.float32)
    cx, cy, cz = -70 + lesion["lesion_dx_mm"], -10 + lesion["lesion_dy_mm"], lesion["lesion_dz_mm"]
    for k, zk in enumerate(z):
        sl = base.copy()
        shrink = 1.0 - 0.15 * (zk / Z_EXTENT_MM) ** 2
        for side in (-1, 1):
            lung = ((x - side * 70) / (52 * shrink)) ** 2 + ((y + 10) / (75 * shrink)) ** 2 <= 1
            sl[lung] = -850.0 + lung_tex[lung]
        lesion_mask = (x - cx) ** 2 + (y - cy) ** 2 + (zk - cz) ** 2 <= lesion["lesion_radius_mm"] ** 2
        sl[lesion_mask] = lesion["lesion_hu"]
        vol[k] = sl
    vol += rng.normal(0, 12, vol.shape).astype(np.float32)
    return vol, px, dz


def _uid(seed: int, pid: str, *parts: object) -> str:
    from pydicom.uid import generate_uid

    return generate_uid(entropy_srcs=["clinfusion-synth", str(seed), pid, *map(str, parts)])


def _plant_phi(ds, pid: str, phi: PatientPHI, ledger: PhiLedger) -> None:
    """Put identifying values where scanners and RIS put them, and ledger them."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    def put(keyword: str, value: str) -> None:
        setattr(ds, keyword, value)
        ledger.add(pid, "radiology", keyword, value)

    put("PatientName", phi.dicom_name)
    put("PatientID", phi.mrn)
    put("PatientBirthDate", phi.birth_date.strftime("%Y%m%d"))
    put("PatientAddress", phi.address)
    put("PatientTelephoneNumbers", phi.phone)
    put("InstitutionName", phi.institution)
    put("ReferringPhysicianName", "^".join(reversed(phi.referring.removeprefix("Dr. ").split(" "))))
    put("AccessionNumber", phi.accession)
    put("StudyDate", phi.study_date.strftime("%Y%m%d"))
    for k in ("SeriesDate", "AcquisitionDate", "ContentDate"):
        setattr(ds, k, ds.StudyDate)
    block = ds.private_block(0x0009, PRIVATE_CREATOR, create=True)
    block.add_new(0x01, "LO", f"{phi.full_name} {phi.mrn}")
    item = Dataset()
    item.RequestedProcedureID = phi.accession
    item.ReasonForTheRequestedProcedure = f"Staging CT for {phi.full_name}, call {phi.phone}"
    ds.RequestAttributesSequence = Sequence([item])
    ledger.add(pid, "radiology", f"({PRIVATE_CREATOR}) 0009,xx01", f"{phi.full_name} {phi.mrn}")
    ledger.add(pid, "radiology", "RequestAttributesSequence[0].ReasonForTheRequestedProcedure", phi.full_name)
    ledger.add(pid, "radiology", "RequestAttributesSequence[0].ReasonForTheRequestedProcedure", phi.phone)


def _series_dataset(common: dict, rows: int, cols: int):
    """The tags every slice of the series shares (per-slice tags are set by :func:`_set_slice`)."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.StudyInstanceUID, ds.SeriesInstanceUID = common["study_uid"], common["series_uid"]
    ds.FrameOfReferenceUID = common["for_uid"]
    ds.Modality, ds.Manufacturer, ds.BodyPartExamined = "CT", "ClinFusion Synth", "CHEST"
    ds.StudyDescription, ds.SeriesDescription = "CT CHEST WITH CONTRAST", "AXIAL SOFT TISSUE"
    ds.StudyTime, ds.StudyID, ds.SeriesNumber = "101500", "1", 2
    ds.PatientSex, ds.PatientAge = common["sex"], f"{common['age']:03d}Y"
    ds.KVP, ds.ConvolutionKernel = 120, "B30f"
    px = common["px"]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [round(px, 6), round(px, 6)]
    ds.SliceThickness = round(common["dz"], 4)
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    return ds


def _set_slice(ds, common: dict, k: int, z_mm: float, pixels: np.ndarray) -> None:
    """Set the per-slice tags of slice ``k`` at ``z_mm``."""
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = common["sop_uids"][k]
    ds.InstanceNumber = k + 1
    half = (FOV_MM - common["px"]) / 2
    ds.ImagePositionPatient = [-half, -half, round(z_mm, 4)]
    ds.SliceLocation = round(z_mm, 4)
    ds.PixelData = pixels.tobytes()


def write_ct_series(patient_dir: Path, pid: str, latents: dict[str, float], age: int, sex: str, phi: PatientPHI,
                    sizes: ScaleSpec, rng: np.random.Generator, seed: int, ledger: PhiLedger,
                    extension: bool = True) -> dict[str, float]:
    """Write one CT series under ``patient_dir/ST000001/SE000002/``.

    Args:
        patient_dir: ``radiology/<pid>``.
        pid: raw patient id.
        latents: the patient's latent values by name.
        age, sex: clinical covariates (years, ``F``/``M``).
        phi: the invented identity to plant.
        sizes: slices and matrix size.
        rng: the patient's radiology generator.
        seed: cohort seed (for deterministic UIDs).
        ledger: receives the planted strings.
        extension: ``.dcm`` file names when True, bare ``IM000001`` names otherwise.

    Returns:
        The lesion parameters (the radiology phenotype written to the truth).
    """
    lesion = lesion_params(latents["tumour_burden"], latents["proliferation"], rng)
    vol, px, dz = phantom_hu(sizes, lesion, rng)
    stored = np.clip(np.round(vol + 1024), 0, 4095).astype("<u2")
    series_dir = patient_dir / "ST000001" / "SE000002"
    series_dir.mkdir(parents=True, exist_ok=True)
    s = sizes.ct_slices
    common = {
        "study_uid": _uid(seed, pid, "study"), "series_uid": _uid(seed, pid, "series"),
        "for_uid": _uid(seed, pid, "for"), "sop_uids": [_uid(seed, pid, "sop", k) for k in range(s)],
        "px": px, "dz": dz, "age": age, "sex": sex,
    }
    ds = _series_dataset(common, *stored.shape[1:])
    _plant_phi(ds, pid, phi, ledger)
    for k in range(s):
        _set_slice(ds, common, k, (k - (s - 1) / 2) * dz, stored[k])
        name = f"IM{k + 1:06d}" + (".dcm" if extension else "")
        ds.save_as(series_dir / name, enforce_file_format=True)
    return lesion
