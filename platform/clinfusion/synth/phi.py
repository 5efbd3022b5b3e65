"""Invented protected health information planted in the files, and the ledger of every string.

All names, numbers and places are made up. Each value is distinctive (>= 6 characters) so a
test can search every byte a pipeline writes for it: ``truth/phi.csv`` lists each planted
string exactly as it appears in a file, with the modality and the field that holds it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from clinfusion.synth.latent import rng_for

_FIRST = ("Marguerite", "Thaddeus", "Evangeline", "Bartholomew", "Rosalind", "Cornelius", "Philippa",
          "Leopold", "Wilhelmina", "Ignatius", "Octavia", "Barnaby", "Clementine", "Ambrose", "Seraphina",
          "Percival", "Henrietta", "Lysander", "Georgiana", "Fitzgerald")
_SUR_A = ("Quill", "Bramble", "Thorn", "Ashcombe", "Wither", "Marrow", "Pember", "Hollin", "Crane",
          "Fenwick", "Gossam", "Larkin", "Mossel", "Tindle", "Vesper", "Wexley")
_SUR_B = ("feather", "worth", "dale", "ington", "brook", "stead", "hurst", "combe", "ridge", "shaw")
_STREETS = ("Bramblewood Lane", "Kestrel Row", "Juniper Hollow Road", "Larkspur Crescent",
            "Old Millrace Way", "Pennyroyal Court", "Quarrystone Avenue", "Wrenfield Drive")
_TOWNS = ("Fairhaven", "Ashbury Vale", "Millbrook Falls", "Northwick", "Eastmoor", "Havenport")
_INSTITUTIONS = ("St. Aldric Memorial Hospital", "Wrenfield University Medical Center",
                 "Havenport General Infirmary", "Northwick Regional Cancer Institute")
_DOCTORS = ("Dr. Octavius Pemberton", "Dr. Ysolde Farthingale", "Dr. Caspian Whitlock",
            "Dr. Imogen Treadwell", "Dr. Lucan Ravensworth", "Dr. Petronella Ashgrove")
REFERENCE_DATE = dt.date(2024, 6, 1)
"""Ages are computed at this date; study dates fall in the year before it."""


@dataclass(frozen=True)
class PatientPHI:
    """One patient's invented identity.

    Attributes:
        given, family: name parts.
        birth_date: consistent with the clinical age at :data:`REFERENCE_DATE`.
        mrn: medical record number ``MRN-######``.
        phone: ``(555) ###-####``.
        address: street address with town.
        institution: hospital name.
        referring: referring physician.
        pathologist: signing pathologist.
        accession: radiology accession number ``ACC#########``.
        study_date: date of the CT, the slide and the ECG.
    """

    given: str
    family: str
    birth_date: dt.date
    mrn: str
    phone: str
    address: str
    institution: str
    referring: str
    pathologist: str
    accession: str
    study_date: dt.date

    @property
    def full_name(self) -> str:
        """``Given Family``."""
        return f"{self.given} {self.family}"

    @property
    def dicom_name(self) -> str:
        """``Family^Given`` (DICOM PN)."""
        return f"{self.family}^{self.given}"


def make_patient_phi(seed: int, index: int, age_years: int) -> PatientPHI:
    """Invent a deterministic identity for patient ``index`` (0-based) of age ``age_years``."""
    rng = rng_for(seed, "phi", index)

    def pick(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))]

    study = REFERENCE_DATE - dt.timedelta(days=int(rng.integers(30, 365)))
    # floor(days / 365.25) == age_years because the extra days stay below one year
    birth = REFERENCE_DATE - dt.timedelta(days=int(age_years * 365.25) + int(rng.integers(1, 364)))
    return PatientPHI(
        given=pick(_FIRST),
        family=pick(_SUR_A) + pick(_SUR_B),
        birth_date=birth,
        mrn=f"MRN-{rng.integers(100000, 1000000)}",
        phone=f"(555) {rng.integers(200, 1000)}-{rng.integers(1000, 10000)}",
        address=f"{rng.integers(100, 9999)} {pick(_STREETS)}, {pick(_TOWNS)}",
        institution=pick(_INSTITUTIONS),
        referring=pick(_DOCTORS),
        pathologist=pick(_DOCTORS),
        accession=f"ACC{rng.integers(10**8, 10**9)}",
        study_date=study,
    )


@dataclass
class PhiLedger:
    """Collects ``(patient_id, modality, field, value)`` for every planted string."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, patient_id: str, modality: str, field_name: str, value: str) -> str:
        """Record one planted value and return it (so writers can plant and record in one step)."""
        self.rows.append((patient_id, modality, field_name, str(value)))
        return str(value)

    def extend(self, other: PhiLedger) -> None:
        """Append another ledger's rows."""
        self.rows.extend(other.rows)

    def frame(self) -> pd.DataFrame:
        """The ledger as a table, sorted for byte-stable output."""
        df = pd.DataFrame(self.rows, columns=["patient_id", "modality", "field", "value"])
        return df.sort_values(["patient_id", "modality", "field", "value"], kind="stable").reset_index(drop=True)
