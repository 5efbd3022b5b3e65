"""The contract every modality reader follows.

A reader turns one *item* (a file, or a group of files such as a DICOM series folder or a WFDB
``.hea`` + ``.dat`` pair) into de-identified, normalised artifacts in a directory it is given,
plus de-identified metadata for the catalog. It never writes elsewhere and never sees the key:
pseudonyms, UID remaps and date shifts come from ``ctx.pseudonymizer``.

Failure is per item: raise :class:`~clinfusion.errors.IngestError` (naming the file, the field
and what was expected) and the runner quarantines the item; a reader may also reject single
member files of an item and carry on (``IngestResult.rejected``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from clinfusion.cohort.discovery import DiscoveredFile
from clinfusion.cohort.spec import CohortSpec
from clinfusion.configio import NoOptions
from clinfusion.privacy.pseudonym import Pseudonymizer

__all__ = ["IngestContext", "IngestResult", "Item", "NoOptions", "Reader"]


@dataclass(frozen=True)
class Item:
    """One unit of ingestion.

    Attributes:
        modality: modality name.
        patient_id: raw patient id from the path, or ``None`` for a cohort-level file.
        files: member files; ``files[0]`` is the primary file that names the item.
    """

    modality: str
    patient_id: str | None
    files: tuple[DiscoveredFile, ...]

    @property
    def primary(self) -> DiscoveredFile:
        return self.files[0]


@dataclass(frozen=True)
class IngestContext:
    """What a reader may use besides its item.

    Attributes:
        spec: the cohort spec.
        pseudonymizer: keyed pseudonyms, UID remaps and per-patient date shifts.
        options: the reader's validated options (an instance of ``Reader.Options``).
        known_patients: raw ids of the cohort's patients (from clinical.csv).
        demo: demo mode (relaxed key handling; never changes de-identification).
        workers: processes a reader may use within one item (the share of ``ingest --workers``
            left when there are fewer items to read than workers; a reader's output must not
            depend on it).
    """

    spec: CohortSpec
    pseudonymizer: Pseudonymizer
    options: BaseModel
    known_patients: frozenset[str]
    demo: bool = False
    workers: int = 1

    def pseudonym(self, patient_id: str) -> str:
        """Pseudonym of a raw patient id."""
        return self.pseudonymizer.patient(patient_id)

    def mask(self, f: DiscoveredFile) -> str:
        """The stored (masked) form of a file's path: use it in every message and metadata field.

        The patient folder becomes the pseudonym and the rest a keyed token plus extension, since
        file names are often identifying (see :mod:`clinfusion.privacy.paths`).
        """
        from clinfusion.privacy.paths import mask_path

        return mask_path(f, self.pseudonymizer)


@dataclass
class IngestResult:
    """What a reader produced for an item.

    Attributes:
        artifacts: files written under ``out_dir``, relative to it.
        metadata: de-identified, JSON-serialisable metadata (catalog ``meta_json`` and export).
        rejected: member files (cohort-relative path) rejected on their own -> reason.
        patients: for cohort-level items, the *raw* ids of the patients covered (the runner
            pseudonymises them); ``None`` for per-patient items.
    """

    artifacts: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    patients: list[str] | None = None


class Reader(ABC):
    """Base class of modality readers (one subclass per modality, in ``<modality>/read.py``).

    Subclasses set ``modality`` and ``version`` (bump it when the artifacts change: items are
    re-ingested), optionally ``Options`` (a frozen pydantic model validated when the cohort is
    loaded), and implement :meth:`read`; override :meth:`group` when an item spans files.
    """

    modality: ClassVar[str]
    version: ClassVar[str] = "1"
    Options: ClassVar[type[BaseModel]] = NoOptions

    def group(self, files: list[DiscoveredFile]) -> list[list[DiscoveredFile]]:
        """Split one patient's (or the cohort-level) files into items; default: one per file.

        Every file must land in exactly one group, so it is accounted for.
        """
        return [[f] for f in files]

    @abstractmethod
    def read(self, item: Item, ctx: IngestContext, out_dir: Path) -> IngestResult:
        """Read, validate and de-identify ``item``; write artifacts into ``out_dir``.

        Raises:
            IngestError: the item cannot be ingested (it is quarantined with the message).
        """
