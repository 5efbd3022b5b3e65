"""TCGA clinical rows: the PORPOISE slide CSV's case columns merged with TCGA-CDR covariates.

Survival comes from the slide CSV (so the published splits and C-indices stay comparable):
``survival_time`` = ``survival_months`` x 30.44 days (mean days per month, 365.25 / 12), and
``event`` = 1 - ``censorship``. Age and sex come from the CSV, filled from the CDR where the CSV
lacks them; AJCC pathologic stage and histological grade come from the CDR
(``bcr_patient_barcode`` = ``case_id``). CDR placeholders (``[Not Available]``, ``[Discrepancy]``,
``Stage X``, ``GX``, ...) become missing values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.errors import IngestError

DAYS_PER_MONTH = 30.44
STAGE_LEVELS: tuple[str, ...] = ("0", "I", "IA", "IB", "IC", "II", "IIA", "IIB", "IIC", "III", "IIIA", "IIIB", "IIIC",
                                 "IV", "IVA", "IVB", "IVC")
"""AJCC stages lowest first; sub-stages sit between their stage and the next one."""
_PLACEHOLDER = re.compile(r"^\[.*\]$|^STAGE X$|^GX$|^I/II NOS$|^IS$", re.I)
CDR_COLUMNS = {"age_at_initial_pathologic_diagnosis": "cdr_age", "gender": "cdr_sex",
               "ajcc_pathologic_tumor_stage": "stage", "histological_grade": "grade"}


def _clean(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text.isna() | text.str.match(_PLACEHOLDER.pattern, case=False).fillna(False) | (text == ""))


def read_cdr(path: Path) -> pd.DataFrame:
    """The TCGA-CDR table indexed by patient barcode, with the columns we use.

    Raises:
        IngestError: missing columns.
    """
    cdr = pd.read_csv(path, dtype={"bcr_patient_barcode": str}, low_memory=False)
    missing = [c for c in ["bcr_patient_barcode", *CDR_COLUMNS] if c not in cdr.columns]
    if missing:
        raise IngestError(f"TCGA-CDR table lacks column(s) {missing}", file=path.name)
    cdr = cdr.drop_duplicates("bcr_patient_barcode").set_index("bcr_patient_barcode")
    return cdr[list(CDR_COLUMNS)].rename(columns=CDR_COLUMNS)


def clinical_frame(cases: pd.DataFrame, cdr: pd.DataFrame | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per case: ``patient_id, survival_time, event, diagnosis, age, sex[, stage, grade]``.

    Args:
        cases: deduplicated slide-CSV rows indexed by ``case_id``.
        cdr: :func:`read_cdr` output, or ``None``.

    Returns:
        The table and a report (cases matched in the CDR, missing values per column).
    """
    sex = cases["is_female"].map({1: "F", 0: "M"})
    out = pd.DataFrame({
        "patient_id": cases.index.astype(str),
        "survival_time": np.round(cases["survival_months"].astype(float) * DAYS_PER_MONTH, 2),
        "event": (1 - cases["censorship"].astype(int)).astype(int),
        "diagnosis": cases["oncotree_code"].astype("string"),
        "age": cases["age"].astype(float),
        "sex": sex.astype("string"),
    }).reset_index(drop=True)
    report: dict[str, Any] = {"cdr_matched": 0}
    if cdr is not None:
        matched = cdr.reindex(out["patient_id"]).reset_index(drop=True)
        report["cdr_matched"] = int(out["patient_id"].isin(cdr.index).sum())
        cdr_age = pd.to_numeric(matched["cdr_age"], errors="coerce")
        cdr_sex = _clean(matched["cdr_sex"]).str.upper().map({"FEMALE": "F", "MALE": "M"})
        out["age"] = out["age"].fillna(cdr_age)
        out["sex"] = out["sex"].fillna(cdr_sex)
        out["stage"] = _clean(matched["stage"])
        out["grade"] = _clean(matched["grade"])
    report["missing"] = {c: int(out[c].isna().sum()) for c in out.columns if out[c].isna().any()}
    return out, report
