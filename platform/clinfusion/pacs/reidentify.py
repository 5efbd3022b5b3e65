"""The original (identified) image a de-identified header stands for: for the hospital-side operator.

UIDs in the workspace are keyed one-way remaps (``Pseudonymizer.uid``) and patient ids keyed
pseudonyms, so the only way back is forward: with the key, remap every candidate from the source
(the cohort's DICOM files, or the DICOMweb server by QIDO-RS) and keep the one whose remap is the
stored value. The result carries raw identifiers: it is returned to the caller (``clinfusion
export-sr --reidentify``, which refuses to write inside the workspace), never stored or logged.
"""

from __future__ import annotations

from typing import Any

from clinfusion.cohort.spec import CohortSpec
from clinfusion.errors import ConfigError
from clinfusion.privacy import Pseudonymizer

IDENTITY_KEYWORDS = ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
                     "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID", "StudyDate", "StudyTime", "AccessionNumber",
                     "ReferringPhysicianName", "StudyID", "Modality")
"""What an SR copies from its evidence (patient and study modules, the referenced instance)."""


def raw_patient(spec: CohortSpec, pz: Pseudonymizer, pseudonym: str) -> str:
    """The clinical-table id whose pseudonym is ``pseudonym``.

    Raises:
        ConfigError: no row of the clinical table maps to it (another cohort or key).
    """
    from clinfusion.cohort.clinical_table import read_clinical_table

    for pid in read_clinical_table(spec).patient_ids:
        if pz.patient(pid) == pseudonym:
            return pid
    raise ConfigError(f"no patient of {spec.clinical.path} has the pseudonym {pseudonym} under this key",
                      field="--reidentify")


def _identity(ds: Any) -> Any:
    from pydicom.dataset import Dataset

    out = Dataset()
    for key in IDENTITY_KEYWORDS:
        setattr(out, key, ds.get(key, "") or "")
    return out


def _from_files(spec: CohortSpec, pz: Pseudonymizer, pid: str, masked_sop: str) -> Any | None:
    import pydicom

    from clinfusion.cohort.discovery import discover_files

    for f in discover_files(spec, ["radiology"]):
        if f.patient_id != pid:
            continue
        try:
            ds = pydicom.dcmread(f.path, stop_before_pixels=True)
        except Exception:  # not DICOM, truncated: such files were rejected at ingest too
            continue
        if "SOPInstanceUID" in ds and pz.uid(str(ds.SOPInstanceUID)) == masked_sop:
            return _identity(ds)
    return None


def _from_dicomweb(spec: CohortSpec, pz: Pseudonymizer, pid: str, masked_sop: str) -> Any | None:
    from pydicom.dataset import Dataset

    from clinfusion.pacs.client import call, make_client
    from clinfusion.pacs.source import patient_map

    cfg = spec.modalities["radiology"].dicomweb
    assert cfg is not None
    client = make_client(cfg)
    pacs_id = patient_map(spec, cfg, [pid]).get(pid)
    if pacs_id is None:
        return None
    for st in call(lambda: client.search_for_studies(search_filters={"PatientID": pacs_id}), "QIDO-RS study search", cfg):
        study = st["0020000D"]["Value"][0]
        found = call(lambda: client.search_for_instances(study_instance_uid=study), "QIDO-RS instance search", cfg)  # noqa: B023
        for inst in found:
            sop = inst["00080018"]["Value"][0]
            if pz.uid(sop) == masked_sop:
                series = inst["0020000E"]["Value"][0]
                meta = call(lambda: client.retrieve_instance_metadata(study, series, sop),  # noqa: B023
                            "WADO-RS metadata retrieve", cfg)
                return _identity(Dataset.from_json(meta, bulk_data_uri_handler=lambda *_: b""))  # no bulk data needed
    return None


def original_reference(spec: CohortSpec, pz: Pseudonymizer, header: dict[str, Any]) -> Any:
    """The identified header-only dataset of the image a stored de-identified header describes.

    Args:
        spec: the cohort (its radiology files or DICOMweb server are searched).
        pz: the pseudonymizer of the workspace's key.
        header: the stored de-identified header (``series_NN.json``).

    Raises:
        ConfigError: the patient or the instance is not found in the source.
    """
    pid = raw_patient(spec, pz, str(header.get("PatientID", "")))
    masked_sop = str(header.get("SOPInstanceUID", ""))
    remote = spec.modalities["radiology"].source == "dicomweb"
    found = (_from_dicomweb if remote else _from_files)(spec, pz, pid, masked_sop)
    if found is None:
        raise ConfigError(f"the referenced instance of {header.get('PatientID')} is no longer in the cohort's "
                          f"{'DICOMweb server' if remote else 'radiology files'}", field="--reidentify")
    return found
