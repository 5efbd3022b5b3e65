"""Report fixtures for tests and benchmarks: PHI-planted reports and the IU X-ray loader.

The planted identities are invented; :func:`write_phi_reports_cohort` writes per-patient text
files and a cohort-level ``reports.csv`` plus the ledger of every planted string, so a test can
search every byte a pipeline wrote for each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from clinfusion.testing.cohorts import write_tiny_cohort
from clinfusion.testing.data import shared_data_dir

IU_RELPATH = "reports/iu_xray/indiana_reports.csv"

IU_LABELS: dict[str, tuple[str, ...]] = {
    "cardiomegaly": ("Cardiomegaly",),
    "effusion": ("Pleural Effusion",),
    "opacity": ("Opacity",),
    "atelectasis": ("Pulmonary Atelectasis",),
    "pneumothorax": ("Pneumothorax",),
    "consolidation": ("Consolidation",),
    "edema": ("Pulmonary Edema", "Pulmonary Congestion"),
    "nodule": ("Nodule",),
    "mass": ("Mass",),
    "fracture": ("Fractures, Bone",),
    "emphysema": ("Emphysema", "Pulmonary Emphysema", "Pulmonary Disease, Chronic Obstructive"),
    "pneumonia": ("Pneumonia",),
    "granuloma": ("Calcified Granuloma", "Granuloma", "Granulomatous Disease"),
    "scoliosis": ("Scoliosis",),
    "hernia": ("Hernia, Hiatal",),
    "infiltrate": ("Infiltrate",),
    "atherosclerosis": ("Atherosclerosis",),
    "scarring": ("Cicatrix", "Pulmonary Fibrosis"),
}
"""Finding of the vocabulary -> IU ``Problems`` labels that mean it."""


def iu_report_text(row: pd.Series) -> str:
    """One IU row as a report with headers (INDICATION, COMPARISON, FINDINGS, IMPRESSION)."""
    parts = []
    for col in ("indication", "comparison", "findings", "impression"):
        value = row.get(col)
        if isinstance(value, str) and value.strip():
            parts.append(f"{col.upper()}: {value.strip()}")
    return "\n".join(parts)


def load_iu_reports(n: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The IU chest X-ray reports with ``text``, ``normal`` (bool) and one bool column per
    finding of :data:`IU_LABELS` (``label_<finding>``); a random sample of ``n`` rows if given."""
    df = pd.read_csv(shared_data_dir() / IU_RELPATH)
    df = df[df["findings"].notna() | df["impression"].notna()].reset_index(drop=True)
    if n is not None and n < len(df):
        df = df.sample(n=n, random_state=seed).reset_index(drop=True)
    df["text"] = [iu_report_text(r) for _, r in df.iterrows()]
    problems = df["Problems"].fillna("").map(lambda s: set(s.split(";")))
    df["normal"] = problems.map(lambda p: p == {"normal"})
    for finding, labels in IU_LABELS.items():
        df[f"label_{finding}"] = problems.map(lambda p, labels=labels: bool(p & set(labels)))
    return df


@dataclass
class PhiCohort:
    """A cohort with planted PHI in its reports.

    Attributes:
        root: cohort directory.
        patients: raw patient ids.
        planted: one row per planted string: ``patient_id, modality, field, value``.
        terms: clinical terms written into the reports that must survive unchanged.
    """

    root: Path
    patients: list[str]
    planted: pd.DataFrame
    terms: list[str]


_PEOPLE = (
    ("Rosamund", "Quillfeather", "MRN-583920", "(555) 318-2290", "4821 Juniper Hollow Road, Ashbury Vale",
     "Dr. Octavius Pemberton", "2023-11-14", "rosamund.q@example.org", "Wrenfield University Medical Center"),
    ("Thaddeus", "Bramblestead", "MRN-204817", "555-761-0043", "77 Kestrel Row, Northwick",
     "Dr. Ysolde Farthingale", "03/09/2024", "tbramble@mailbox.example.com", "St. Aldric Memorial Hospital"),
    ("Evangeline", "Witherdale", "MRN-660142", "(555) 902-4411", "12 Larkspur Crescent, Havenport",
     "Dr. Caspian Whitlock", "February 2, 2024", "eve.w@example.net", "Havenport General Infirmary"),
)


def _report(i: int, pid: str, person: tuple[str, ...], terms: list[str]) -> tuple[str, str, list[tuple[str, str]]]:
    given, family, mrn, phone, address, doctor, date, email, inst = person
    age = 91 + i
    rad = (f"{inst}\nRADIOLOGY REPORT\nPatient: {given} {family}    MRN: {mrn}\nPhone: {phone}\n"
           f"Address: {address}\nE-mail: {email}\nReferring physician: {doctor}\nExam date: {date}\n"
           f"CLINICAL HISTORY: {age}-year-old with cough. {terms[0]} in remission.\n"
           f"COMPARISON: None.\nFINDINGS: The heart is enlarged. There is no pleural effusion or pneumothorax. "
           f"Possible nodule in the right upper lobe. {terms[1]} noted.\n"
           f"IMPRESSION: Cardiomegaly. Findings discussed with {given} {family} by phone.\n"
           f"Electronically signed by: {doctor}")
    path = (f"SURGICAL PATHOLOGY REPORT\nName: {family}, {given}\nMRN {mrn}\nDate received: {date}\n"
            f"SPECIMEN: Lymph node, excision.\nFINAL DIAGNOSIS: {terms[2]}. No evidence of malignancy in "
            f"the margins. Mr. {family} tolerated the procedure.\nPathologist: {doctor}, MD")
    planted = [("name", given), ("name", family), ("name", f"{given} {family}"), ("mrn", mrn), ("phone", phone),
               ("address", address), ("doctor", doctor), ("date", date), ("email", email), ("age", f"{age}-year-old"),
               ("institution", inst)]
    return rad, path, planted


def write_phi_reports_cohort(root: str | Path, *, with_csv: bool = True) -> PhiCohort:
    """Write a 3-patient cohort whose reports carry planted PHI (text files and a reports.csv).

    Patient ``i`` gets ``reports/<pid>/radiology_report.txt`` and ``pathology_report.txt``;
    with ``with_csv`` a ``reports/reports.csv`` (patient_id, date, kind, text) holds one more
    radiology report per patient, plus one row for a patient not in the clinical table.
    """
    from clinfusion.modalities.reports.deid import medical_terms

    cohort = write_tiny_cohort(root, n_patients=len(_PEOPLE), name="phi-reports")
    eponyms = [t for t in medical_terms() if " " in t and t[0].isupper()]
    rows, csv_rows, used_terms = [], [], []
    for i, (pid, person) in enumerate(zip(cohort.patients, _PEOPLE, strict=True)):
        terms = eponyms[3 * i: 3 * i + 3]
        used_terms += terms
        rad, path, planted = _report(i, pid, person, terms)
        d = cohort.root / "reports" / pid
        d.mkdir(parents=True, exist_ok=True)
        (d / "radiology_report.txt").write_text(rad, encoding="utf-8")
        (d / "pathology_report.txt").write_text(path, encoding="utf-8")
        rows += [(pid, "reports", f, v) for f, v in planted]
        csv_rows.append({"patient_id": pid, "date": person[6], "kind": "radiology",
                         "text": f"FINDINGS: Small left pleural effusion. Seen by {person[5]}.\nIMPRESSION: Effusion."})
    if with_csv:
        csv_rows.append({"patient_id": "UNKNOWN01", "date": "2024-01-01", "kind": "radiology", "text": "FINDINGS: Normal."})
        pd.DataFrame(csv_rows).to_csv(cohort.root / "reports" / "reports.csv", index=False)
    planted = pd.DataFrame(rows, columns=["patient_id", "modality", "field", "value"])
    return PhiCohort(cohort.root, cohort.patients, planted, used_terms)
