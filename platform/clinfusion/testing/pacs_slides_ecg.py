"""A small cohort whose DICOM-WSI slides and DICOM waveform ECGs exist both as files and for upload.

The slide is the real DICOM-WSI of the shared data (``pathology/tcga-xk-aaju-dicom-wsi.dcm``, 1.5 MB,
one VOLUME instance) and the ECG pydicom's bundled ``waveform_ecg.dcm`` (12 leads, 1000 Hz, 10 s);
each patient gets copies with PatientID = the clinical table's ``patient_id`` and fresh UIDs, under
``pathology/<patient_id>/`` and ``ecg/<patient_id>/`` of a file-based cohort. The same files are
uploaded to Orthanc, so a file-based and a DICOMweb ingest can be compared item by item.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from clinfusion.testing.cohorts import TinyCohort, write_tiny_cohort
from clinfusion.testing.data import shared_data_dir

WSI_FILE = "pathology/tcga-xk-aaju-dicom-wsi.dcm"
"""The shared-data slide (relative to :func:`~clinfusion.testing.data.shared_data_dir`)."""
SLIDE_OPTIONS: dict[str, Any] = {"tiling": {"target_mpp": 8.0}}
"""Pathology reader options for that slide (about 2 um/px at level 0: too coarse for the 0.5 um/px default)."""


def slide_source() -> Path | None:
    """The shared DICOM-WSI, or ``None`` when the shared data is absent."""
    path = shared_data_dir() / WSI_FILE
    return path if path.is_file() else None


def copy_with_ids(src: Path | str, dest: Path, pid: str, study: str, series: str, **attrs: Any) -> Path:
    """Write ``src`` to ``dest`` as patient ``pid`` (PatientName ``Doe^<pid>``) in ``study``/``series``
    with a fresh SOP Instance UID and the given attributes (e.g. ``ImageType``)."""
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(str(src))
    ds.PatientID, ds.PatientName = pid, f"Doe^{pid}"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    for key, value in attrs.items():
        setattr(ds, key, value)
    dest.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(dest, enforce_file_format=True)
    return dest


@dataclass
class SlideEcgCohort:
    """What :func:`write_slide_ecg_cohort` wrote.

    Attributes:
        files_cohort: the file-based cohort (``pathology/`` and ``ecg/`` per patient).
        slides, ecgs: patient id -> that patient's DICOM files of the modality (to upload).
    """

    files_cohort: TinyCohort
    slides: dict[str, list[Path]]
    ecgs: dict[str, list[Path]]

    def all_files(self) -> list[Path]:
        return [f for d in (self.slides, self.ecgs) for fs in d.values() for f in fs]


def write_slide_ecg_cohort(root: str | Path, *, n_patients: int = 3, n_slides: int = 1, n_ecgs: int = 2,
                           label: bool = True, id_prefix: str = "SL") -> SlideEcgCohort:
    """Write the file-based cohort under ``root/files`` (cohort.yaml: limits.item_seconds null, the
    pathology options :data:`SLIDE_OPTIONS`).

    Args:
        n_patients: clinical-table rows; the first ``n_slides`` patients get one slide, the first
            ``n_ecgs`` one ECG (each in its own study).
        label: the first slide's series also holds a LABEL instance (ImageType ``.../LABEL``), which
            neither ingest may read.
        id_prefix: patient ids are ``f"{id_prefix}{i:04d}"``.

    Raises:
        FileNotFoundError: the shared slide is absent (check :func:`slide_source` first).
    """
    import pydicom.data
    from pydicom.uid import generate_uid

    src = slide_source()
    if src is None and n_slides:
        raise FileNotFoundError(f"{shared_data_dir() / WSI_FILE} (shared data) is absent")
    cohort = write_tiny_cohort(Path(root) / "files", n_patients=n_patients, id_prefix=id_prefix,
                               spec={"limits": {"item_seconds": None}, "modalities": {"pathology": {"options": SLIDE_OPTIONS}}})
    ecg_src = pydicom.data.get_testdata_file("waveform_ecg.dcm")
    slides: dict[str, list[Path]] = {}
    ecgs: dict[str, list[Path]] = {}
    for k, pid in enumerate(cohort.patients[:n_slides]):
        assert src is not None
        study, series = generate_uid(), generate_uid()
        d = cohort.root / "pathology" / pid
        files = [copy_with_ids(src, d / "slide-volume.dcm", pid, study, series, ImageType=["ORIGINAL", "PRIMARY", "VOLUME", "NONE"])]
        if label and k == 0:
            files.append(copy_with_ids(src, d / "slide-label.dcm", pid, study, series, ImageType=["ORIGINAL", "PRIMARY", "LABEL", "NONE"]))
        slides[pid] = files
    for pid in cohort.patients[:n_ecgs]:
        ecgs[pid] = [copy_with_ids(str(ecg_src), cohort.root / "ecg" / pid / "ecg.dcm", pid, generate_uid(), generate_uid())]
    return SlideEcgCohort(cohort, slides, ecgs)


def write_remote_cohort(src: TinyCohort, root: str | Path, blocks: dict[str, dict[str, Any]],
                        extra: dict | None = None) -> Path:
    """A cohort with the same clinical table whose modalities named in ``blocks`` come from DICOMweb:
    ``modalities: {m: {source: dicomweb, dicomweb: blocks[m]}}`` (with the reader ``options`` the
    source cohort gives ``m``; every other modality keeps its default file patterns), plus ``extra``
    top-level keys."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "clinical.csv").write_bytes((src.root / "clinical.csv").read_bytes())
    data = yaml.safe_load((src.root / "cohort.yaml").read_text())
    given = data.get("modalities") or {}
    data["modalities"] = {m: {"source": "dicomweb", "dicomweb": dict(b),
                              **({"options": given[m]["options"]} if given.get(m, {}).get("options") else {})}
                          for m, b in blocks.items()}
    data.update(extra or {})
    (root / "cohort.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root
