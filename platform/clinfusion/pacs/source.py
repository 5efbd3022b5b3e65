"""A modality's items from a DICOMweb server, chosen by SOP class (:mod:`clinfusion.pacs.kinds`).

Planning (every ingest) runs QIDO-RS only: for each clinical-table patient, the studies whose
PatientID is the patient's id (or the id the mapping CSV gives), then each study's instances that
the modality takes: radiology one item per study of every image SOP class except SRs, ECG
waveforms, whole-slide images, ... (:data:`NOT_RADIOLOGY_SOP_CLASSES`); pathology one item per
VL Whole Slide Microscopy series (a slide); ECG one item per 12-lead/General ECG waveform. An
item's member "files" are named by masked identifiers only,
``dicomweb/<pseudonym>/<study uid'>/<series uid'>/<sop uid'>.dcm`` (``uid'`` = the keyed UID remap
the de-identified headers use), and its signature is the sorted list of its masked SOP Instance
UIDs: a rerun whose QIDO answer lists the same instances reuses the item without any WADO-RS
request. Only an item that must be (re-)read is retrieved (:class:`StudyFetch`, WADO-RS per
instance, into a temporary folder outside the workspace that the runner deletes after reading),
then read by the modality's own reader as if the files were local.

Raw identifiers (PatientID, UIDs) stay in memory: never in a path, a log line or an error.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinfusion.cohort.discovery import DiscoveredFile
from clinfusion.cohort.spec import CohortSpec, DicomWebSpec
from clinfusion.errors import CohortSpecError, IngestError
from clinfusion.modalities.base import Item
from clinfusion.pacs.client import PacsError, call, make_client
from clinfusion.pacs.kinds import NOT_RADIOLOGY_SOP_CLASSES as NOT_RADIOLOGY_SOP_CLASSES  # re-exported
from clinfusion.pacs.kinds import REMOTE_KINDS, RemoteKind
from clinfusion.pacs.kinds import is_radiology_instance as is_radiology_instance  # re-exported
from clinfusion.privacy import Pseudonymizer

FETCH_FAILED = "not retrieved from the DICOMweb server"
"""Prefix of the reason of an item whose WADO-RS retrieval failed: such an item is retried next run."""
NOT_FETCHED = Path("/nonexistent/clinfusion-dicomweb")
"""Placeholder folder of planned member files before retrieval (never opened)."""
_STUDY, _SERIES, _SOP, _PID = "0020000D", "0020000E", "00080018", "00100020"
FETCH_DIR_PREFIX = "clinfusion-fetch-"
"""Temporary folders of retrievals are ``<tmp>/clinfusion-fetch-<pid>-*`` (``pid``: the reading process)."""


def fetch_dir_prefix() -> str:
    """The prefix of this process's retrieval folders (see :func:`sweep_stale_fetch_dirs`)."""
    import os

    return f"{FETCH_DIR_PREFIX}{os.getpid()}-"


def sweep_stale_fetch_dirs() -> int:
    """Remove retrieval folders left by processes that no longer run (a worker killed at its time
    budget cannot clean up after itself; its folder holds raw DICOM). Returns how many were removed."""
    import os
    import shutil
    import tempfile

    removed = 0
    for d in Path(tempfile.gettempdir()).glob(f"{FETCH_DIR_PREFIX}*"):
        try:
            pid = int(d.name[len(FETCH_DIR_PREFIX):].split("-", 1)[0])
            os.kill(pid, 0)
        except ValueError:
            continue  # not one of ours
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
        except PermissionError:
            continue  # another user's live process
    return removed


def _first(attrs: dict[str, Any], tag: str) -> str:
    values = (attrs.get(tag) or {}).get("Value") or [""]
    return str(values[0])


@dataclass(frozen=True)
class StudyFetch:
    """Retrieve one item's planned instances (a study, a slide series or one waveform; WADO-RS) into a folder.

    Attributes:
        cfg: the server; instances: ``(study uid, series uid, sop uid)`` per member file, in the
        item's file order (raw UIDs, in memory only); modality: whose ``dicomweb`` block ``cfg`` is.
    """

    cfg: DicomWebSpec
    instances: tuple[tuple[str, str, str], ...]
    modality: str = "radiology"

    def __call__(self, item: Item, dest: Path) -> Item:
        """Download every member of ``item`` into ``dest``; return the item with real paths.

        Raises:
            IngestError: a retrieval failed (reason starts with :data:`FETCH_FAILED`, names the
                HTTP status) or the server sent another instance than asked.
        """
        import pydicom

        client = make_client(self.cfg, field=f"modalities.{self.modality}.dicomweb.auth")
        files = []
        for k, (f, (study, series, sop)) in enumerate(zip(item.files, self.instances, strict=True)):
            try:
                ds = call(lambda: client.retrieve_instance(study, series, sop),  # noqa: B023 (called at once)
                          f"WADO-RS retrieve of instance {k + 1}/{len(self.instances)}", self.cfg)
            except PacsError as err:
                stop = f"retrieval stopped at instance {k + 1}/{len(self.instances)} ({err.message})"
                others = {g.rel: f"{FETCH_FAILED}: {'retrieved, not read' if j < k else 'not requested'}; {stop}"
                          for j, g in enumerate(item.files) if j != k}
                raise IngestError(f"{FETCH_FAILED}: {err.message}", file=f.rel, field="WADO-RS",
                                  file_reasons=others) from None
            if str(ds.get("SOPInstanceUID", "")) != sop:
                raise IngestError(f"{FETCH_FAILED}: the server answered instance {k + 1} with another SOP Instance UID",
                                  file=f.rel, field="SOPInstanceUID")
            path = dest / Path(f.rel).name
            pydicom.dcmwrite(path, ds, enforce_file_format=True)
            files.append(DiscoveredFile(f.modality, f.rel, f.patient_id, path, -1))
        return Item(item.modality, item.patient_id, tuple(files))


@dataclass(frozen=True)
class RemoteItem:
    """A planned item from the server.

    Attributes:
        item: member files named by masked identifiers (paths not yet there).
        signature: sorted masked SOP Instance UIDs (what the item holds, known before retrieval).
        fetch: how to retrieve it; ``None`` for a blocked item.
        blocked: reason to quarantine without reading (the search failed), or ``""``.
    """

    item: Item
    signature: tuple[str, ...]
    fetch: StudyFetch | None
    blocked: str = ""


def patient_map(spec: CohortSpec, cfg: DicomWebSpec, patients: list[str], modality: str = "radiology") -> dict[str, str]:
    """Clinical-table id -> PACS PatientID (identity unless ``dicomweb.patients`` names a mapping CSV).

    Raises:
        CohortSpecError: the mapping CSV is missing or lacks its columns.
    """
    if cfg.patients is None:
        return {p: p for p in patients}
    assert spec.root is not None
    path = Path(spec.root) / cfg.patients
    field = f"modalities.{modality}.dicomweb.patients"
    if not path.is_file():
        raise CohortSpecError("mapping CSV not found", file=cfg.patients, field=field)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not {"patient_id", "dicom_patient_id"} <= set(reader.fieldnames or []):
            raise CohortSpecError("expected columns patient_id and dicom_patient_id", file=cfg.patients, field=field)
        rows = {r["patient_id"].strip(): r["dicom_patient_id"].strip() for r in reader}
    return {p: rows[p] for p in patients if rows.get(p)}


def _instances(client: Any, cfg: DicomWebSpec, pacs_id: str, kind: RemoteKind) -> dict[str, list[tuple[str, str]]]:
    """study uid -> [(series uid, sop uid)] of the patient that ``kind`` keeps, by QIDO-RS (exact PatientID match)."""
    studies = call(lambda: client.search_for_studies(search_filters={"PatientID": pacs_id}, get_remaining=True),
                   "QIDO-RS study search", cfg)
    out: dict[str, list[tuple[str, str]]] = {}
    for st in studies:
        if _first(st, _PID) and _first(st, _PID) != pacs_id:  # a wildcard or fuzzy match on the server
            continue
        uid = _first(st, _STUDY)
        found = call(lambda: client.search_for_instances(study_instance_uid=uid, fields=list(kind.fields) or None,  # noqa: B023
                                                         get_remaining=True),
                     "QIDO-RS instance search", cfg)
        out[uid] = sorted({(_first(i, _SERIES), _first(i, _SOP)) for i in found if _first(i, _SOP) and kind.keep(i)})
    return out


def _study_item(modality: str, pid: str, cfg: DicomWebSpec, study: str, members: list[tuple[str, str]],
                pz: Pseudonymizer) -> RemoteItem:
    """The item of ``members`` (instances of one study: all of it, one series or one instance)."""
    head = f"dicomweb/{pz.patient(pid)}/{pz.uid(study)}"
    named = sorted((f"{head}/{pz.uid(series)}/{pz.uid(sop)}.dcm", series, sop) for series, sop in members)
    files = tuple(DiscoveredFile(modality, rel, pid, NOT_FETCHED / Path(rel).name, -1) for rel, _, _ in named)
    fetch = StudyFetch(cfg, tuple((study, series, sop) for _, series, sop in named), modality)
    return RemoteItem(Item(modality, pid, files), tuple(sorted(pz.uid(sop) for _, _, sop in named)), fetch)


def search_failed_item(modality: str, pid: str, pz: Pseudonymizer, reason: str) -> RemoteItem:
    """The blocked item that records a failed search for a patient (its earlier items are kept)."""
    f = DiscoveredFile(modality, f"dicomweb/{pz.patient(pid)}/search", pid, NOT_FETCHED / "search", -1)
    return RemoteItem(Item(modality, pid, (f,)), (reason,), None, blocked=reason)


def plan_remote(spec: CohortSpec, modality: str, patients: list[str], pz: Pseudonymizer) -> tuple[list[RemoteItem], set[str]]:
    """Items of ``modality`` on its DICOMweb server for the given clinical-table patients.

    Returns:
        The items (one per study, slide series or waveform instance with at least one instance kept
        by the modality's SOP-class filter, plus one blocked item per patient
        whose search failed) and the raw ids of those patients (their earlier items stay).

    Raises:
        CohortSpecError: the mapping CSV is invalid; ConfigError: an auth variable is unset.
    """
    cfg = spec.modalities[modality].dicomweb
    assert cfg is not None, "plan_remote needs source: dicomweb"
    kind = REMOTE_KINDS[modality]
    sweep_stale_fetch_dirs()
    client = make_client(cfg, field=f"modalities.{modality}.dicomweb.auth")
    items: list[RemoteItem] = []
    failed: set[str] = set()
    for pid, pacs_id in sorted(patient_map(spec, cfg, patients, modality).items()):
        try:
            studies = _instances(client, cfg, pacs_id, kind)
        except PacsError as err:
            items.append(search_failed_item(modality, pid, pz, f"{FETCH_FAILED}: {err.message}"))
            failed.add(pid)
            continue
        items += [_study_item(modality, pid, cfg, s, g, pz) for s, m in sorted(studies.items()) for g in kind.groups(m)]
    return items, failed
