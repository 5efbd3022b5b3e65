"""De-identification of the clinical table (HIPAA Safe Harbor style, applied to columns).

- patient ids become keyed pseudonyms;
- columns whose *names* mark direct identifiers (name, MRN, SSN, address, phone, e-mail, ...)
  are dropped, and reported by name;
- ages above 89 are aggregated to 90 (Safe Harbor: "ages over 89");
- date columns are shifted by the patient's keyed offset (the same offset as every modality).
"""

from __future__ import annotations

import re

import pandas as pd

from clinfusion.privacy.pseudonym import Pseudonymizer

IDENTIFIER_COLUMN = re.compile(
    r"(^|_)(first_?name|last_?name|surname|full_?name|name|patient_?name|mrn|medical_record|ssn|social_security|"
    r"address|street|zip|postcode|phone|telephone|fax|e_?mail|email|birth_?date|dob|date_of_birth|accession|"
    r"insurance|account|licen[cs]e|ip_address|url)($|_)",
    re.IGNORECASE,
)
AGE_COLUMN = re.compile(r"(^|_)age($|_)", re.IGNORECASE)
DATE_COLUMN = re.compile(r"(^|_)(date|datetime)($|_)|_dt$", re.IGNORECASE)
MAX_AGE = 90


def identifier_columns(columns: list[str]) -> list[str]:
    """Columns whose names mark direct identifiers."""
    return [c for c in columns if IDENTIFIER_COLUMN.search(str(c))]


def deidentify_clinical(frame: pd.DataFrame, id_column: str, pz: Pseudonymizer) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """De-identify a clinical table.

    Args:
        frame: the table with raw ids in ``id_column``.
        id_column: patient id column.
        pz: pseudonymizer.

    Returns:
        The de-identified table (id column renamed ``patient_id``, holding pseudonyms) and a
        report ``{"dropped": [...], "aged_capped": [...], "dates_shifted": [...]}`` of column names.
    """
    df = frame.copy()
    raw_ids = df[id_column].astype(str)
    dropped = [c for c in identifier_columns([c for c in df.columns if c != id_column])]
    df = df.drop(columns=dropped)
    capped = []
    for col in df.columns:
        if col != id_column and AGE_COLUMN.search(str(col)) and pd.api.types.is_numeric_dtype(df[col]):
            if (df[col] > MAX_AGE).any():
                capped.append(col)
            df[col] = df[col].clip(upper=MAX_AGE)
    shifted = []
    for col in df.columns:
        if col != id_column and DATE_COLUMN.search(str(col)):
            dates = pd.to_datetime(df[col], errors="coerce")
            offsets = pd.to_timedelta([pz.date_shift_days(p) for p in raw_ids], unit="D")
            df[col] = (dates + offsets).dt.strftime("%Y-%m-%d")
            shifted.append(col)
    df[id_column] = [pz.patient(p) for p in raw_ids]
    df = df.rename(columns={id_column: "patient_id"})
    return df, {"dropped": dropped, "ages_capped": capped, "dates_shifted": shifted}
