"""A small synthetic cohort whose CT studies exist both as files and for upload to a PACS.

Each imaged patient has one study (a CT series, and for some a one-slice scout in the same study)
whose DICOM PatientID is the clinical table's ``patient_id``, as the DICOMweb source matches them.
The same files serve a file-based cohort (``radiology/<patient_id>/...``) and an upload to Orthanc,
so both ingests can be compared item by item.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from clinfusion.testing.cohorts import TinyCohort, write_tiny_cohort
from clinfusion.testing.dicom import PLANTED_PHI, write_ct_series


@dataclass
class PacsCohort:
    """What :func:`write_pacs_cohort` wrote.

    Attributes:
        files_cohort: the cohort with the DICOM files under ``radiology/``.
        files: patient id -> that patient's DICOM files (to upload).
    """

    files_cohort: TinyCohort
    files: dict[str, list[Path]]

    def all_files(self) -> list[Path]:
        return [f for fs in self.files.values() for f in fs]


def write_pacs_cohort(root: str | Path, *, n_patients: int = 3, n_imaged: int | None = None, n_slices: int = 4,
                      size: int = 16, scout_every: int = 2, spec: dict | None = None,
                      id_prefix: str = "PT") -> PacsCohort:
    """Write the file-based cohort under ``root/files``.

    Args:
        n_patients: clinical-table rows; n_imaged: how many of them have a study (default all but one).
        n_slices, size: CT series shape ``[n_slices, size, size]``.
        scout_every: every k-th imaged patient also gets a one-slice scout series in the same study.
        spec: extra cohort.yaml keys.
        id_prefix: patient ids are ``f"{id_prefix}{i:04d}"`` (distinct prefixes share one server).
    """
    from pydicom.uid import generate_uid

    cohort = write_tiny_cohort(Path(root) / "files", n_patients=n_patients, spec=spec, id_prefix=id_prefix)
    imaged = cohort.patients[: (n_patients - 1 if n_imaged is None else n_imaged)]
    files: dict[str, list[Path]] = {}
    for k, pid in enumerate(imaged):
        phi = dataclasses.replace(PLANTED_PHI, patient_id=pid)
        study = generate_uid()
        d = cohort.root / "radiology" / pid / "study"
        fs = write_ct_series(d / "ct", n_slices=n_slices, rows=size, cols=size, phi=phi, study_uid=study)
        if scout_every and k % scout_every == 0:
            fs += write_ct_series(d / "scout", n_slices=1, rows=size, cols=size, phi=phi, study_uid=study,
                                  series_number=2, prefix="SC")
        files[pid] = fs
    return PacsCohort(cohort, files)


def write_dicomweb_cohort(src: TinyCohort, root: str | Path, url: str, extra: dict | None = None) -> Path:
    """A cohort with the same clinical table whose radiology comes from ``url`` (the minimal form:
    ``modalities: {radiology: {source: dicomweb, dicomweb: {url: URL}}}``, plus ``extra`` keys)."""
    from clinfusion.testing.pacs_slides_ecg import write_remote_cohort

    return write_remote_cohort(src, root, {"radiology": {"url": url}}, extra)
