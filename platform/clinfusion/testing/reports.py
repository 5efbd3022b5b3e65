"""Report fixtures for tests and benchmarks: PHI-planted reports and the IU X-ray loader.

The planted identities are invented; :func:`write_phi_reports_cohort` writes per-patient text
files and a cohort-level ``reports.csv`` plus the ledger of every planted string, so a test can
search every byte a pipeline wrote for each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
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


def write_tiny_bert(path: str | Path, seed: int = 0) -> Path:
    """Write a tiny random BERT (2 layers, hidden 32) with a small word-piece vocabulary.

    It stands in for a clinical BERT directory in tests of the ``local_transformer`` encoder.
    """
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    words = ["no", "pleural", "effusion", "pneumothorax", "heart", "is", "enlarged", "normal", "size", "mass", "lung", "right", "left", "lobe", "upper", "lower", "there", "a", "the", "of", "with", "and", "mild", "cardiomegaly", "nodule", "findings", "impression", "name"]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "[", "]", *words]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True).save_pretrained(str(path))
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128)
    BertModel(cfg).save_pretrained(str(path))
    return path


def iu_sentences(text: str) -> list[str]:
    """Sentences of the FINDINGS and IMPRESSION sections of an IU report text."""
    from clinfusion.modalities.reports.sections import split_sections
    from clinfusion.modalities.reports.sentences import split_sentences

    return [s for sec in split_sections(text) if sec.name in ("FINDINGS", "IMPRESSION") for s in split_sentences(sec.text)]


def extraction_scores(df: pd.DataFrame, count_uncertain: bool = True) -> dict[str, dict[str, float]]:
    """Precision/recall of extracted findings against the IU labels of :func:`load_iu_reports`.

    A finding is predicted positive when ``present`` (and ``uncertain`` with ``count_uncertain``).
    """
    from clinfusion.modalities.reports.findings import report_findings

    positive = {"present", "uncertain"} if count_uncertain else {"present"}
    status = [report_findings(iu_sentences(t)) for t in df["text"]]
    out = {}
    for finding in IU_LABELS:
        y = df[f"label_{finding}"].to_numpy(bool)
        p = np.array([s[finding] in positive for s in status])
        tp = int((p & y).sum())
        out[finding] = {"n_labelled": int(y.sum()), "n_predicted": int(p.sum()),
                        "precision": tp / p.sum() if p.sum() else float("nan"),
                        "recall": tp / y.sum() if y.sum() else float("nan")}
    return out


def probe_auroc(x, y, folds: int = 5, seed: int = 0) -> tuple[float, float]:
    """Stratified k-fold AUROC (mean, sd) of a logistic-regression probe on features ``x [N, D]``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    scores = []
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        clf = LogisticRegression(max_iter=2000, C=1.0).fit(x[tr], y[tr])
        scores.append(roc_auc_score(y[te], clf.predict_proba(x[te])[:, 1]))
    return float(np.mean(scores)), float(np.std(scores))


def mean_embeddings(texts: list[str], backend: Any) -> np.ndarray:
    """Per report: the mean of its FINDINGS/IMPRESSION sentence embeddings ``[N, D]`` (one batched call)."""
    sents = [iu_sentences(t) or [t] for t in texts]
    flat = [s for ss in sents for s in ss]
    emb = backend.embed(flat)
    bounds = np.cumsum([0] + [len(ss) for ss in sents])
    return np.stack([emb[a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
