"""Read and check clinical.csv: one row per patient with outcomes and covariates.

Checks collect every problem (duplicate ids, missing or negative survival times, events outside
{0, 1}, declared covariates the table lacks) so a user sees the whole list in one report.
Row numbers in messages are 1-based file lines (the header is line 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from clinfusion.cohort.spec import CohortSpec
from clinfusion.errors import CohortSpecError, Problem

_MAX_LISTED = 10


@dataclass
class ClinicalTable:
    """The clinical table with its problems.

    Attributes:
        frame: one row per patient, indexed by nothing; ``id_column`` holds ids as strings.
        problems: everything wrong with the table (empty when valid).
        path: the file read.
    """

    frame: pd.DataFrame
    path: Path
    problems: list[Problem] = field(default_factory=list)

    @property
    def patient_ids(self) -> list[str]:
        """Unique patient ids in file order."""
        return list(dict.fromkeys(self.frame.iloc[:, 0].tolist())) if len(self.frame) else []


def _lines(mask: pd.Series) -> str:
    rows = [str(i + 2) for i in np.flatnonzero(mask.to_numpy())]
    more = f" (+{len(rows) - _MAX_LISTED} more)" if len(rows) > _MAX_LISTED else ""
    return ", ".join(rows[:_MAX_LISTED]) + more


def _check_ids(df: pd.DataFrame, id_col: str, rel: str) -> list[Problem]:
    problems = []
    ids = df[id_col]
    empty = ids.isna() | (ids.astype(str).str.strip() == "")
    if empty.any():
        problems.append(Problem(rel, id_col, f"empty patient id on line(s) {_lines(empty)}"))
    dup = ids.duplicated(keep=False) & ~empty
    for value in ids[dup].unique()[:_MAX_LISTED]:
        problems.append(
            Problem(rel, id_col, f"duplicate patient id {value!r} on lines {_lines(ids == value)}; expected one row per patient")
        )
    return problems


def _check_outcomes(df: pd.DataFrame, spec: CohortSpec, rel: str) -> list[Problem]:
    problems = []
    tcol, ecol = spec.clinical.time_column, spec.clinical.event_column
    if (tcol in df) != (ecol in df):
        present, missing = (tcol, ecol) if tcol in df else (ecol, tcol)
        problems.append(Problem(rel, missing, f"column missing: survival needs both {tcol!r} and {ecol!r} (found only {present!r})"))
    if tcol in df:
        t = pd.to_numeric(df[tcol], errors="coerce")
        bad = t.isna()
        if bad.any():
            problems.append(Problem(rel, tcol, f"missing or non-numeric survival time on line(s) {_lines(bad)}; expected days >= 0"))
        neg = t < 0
        if neg.any():
            problems.append(Problem(rel, tcol, f"negative survival time on line(s) {_lines(neg)}; expected days >= 0"))
    if ecol in df:
        e = pd.to_numeric(df[ecol], errors="coerce")
        bad = ~e.isin([0, 1])
        if bad.any():
            problems.append(Problem(rel, ecol, f"event not in {{0, 1}} on line(s) {_lines(bad)}; expected 1 = event, 0 = censored"))
    return problems


def _header_columns(path: Path, limit: int) -> int:
    """Columns in the first line, counting separators in 1 MiB chunks; stops past ``limit``."""
    count = 1
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            head, newline, _ = chunk.partition(b"\n")
            count += head.count(b",")
            if newline or count > limit:
                break
    return count


def check_table_bounds(path: Path, rel: str, max_bytes: int, max_columns: int) -> None:
    """Refuse a table larger than ``max_bytes`` or wider than ``max_columns`` before parsing it.

    Raises:
        CohortSpecError: naming the file, the limit and the cohort.yaml key that sets it.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise CohortSpecError(f"file is {size} bytes, more than limits.clinical_max_bytes = {max_bytes}", file=rel)
    cols = _header_columns(path, max_columns)
    if cols > max_columns:
        raise CohortSpecError(
            f"header has more than {max_columns} columns (limits.clinical_max_columns); expected one column per covariate",
            file=rel, field="header")


def read_clinical_table(spec: CohortSpec, *, strict: bool = False) -> ClinicalTable:
    """Read clinical.csv as declared by ``spec`` and check it.

    Args:
        spec: the cohort spec (its ``root`` must be set).
        strict: raise instead of returning problems.

    Returns:
        The table with ids as strings and the problems found.

    Raises:
        CohortSpecError: the file is missing, unreadable, larger or wider than ``spec.limits``, or ``strict`` and problems were found.
    """
    assert spec.root is not None, "CohortSpec.root must be set (use load_cohort_spec)"
    path = spec.root / spec.clinical.path
    rel = spec.clinical.path
    if not path.is_file():
        raise CohortSpecError("clinical table not found (set clinical.path in cohort.yaml)", file=rel)
    if not spec.allow_symlinks_outside and not path.resolve().is_relative_to(Path(spec.root).resolve()):
        raise CohortSpecError("points outside the cohort directory (set allow_symlinks_outside: true to allow)", file=rel)
    check_table_bounds(path, rel, spec.limits.clinical_max_bytes, spec.limits.clinical_max_columns)
    try:
        df = pd.read_csv(path, dtype={spec.id_column: str}, keep_default_na=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise CohortSpecError(f"cannot parse CSV: {err}", file=rel) from None
    id_col = spec.id_column
    if id_col not in df.columns:
        raise CohortSpecError(f"id column {id_col!r} not found; columns are {list(df.columns)[:12]}", file=rel, field=id_col)
    df[id_col] = df[id_col].astype("string").str.strip()
    df = df[[id_col, *[c for c in df.columns if c != id_col]]]
    problems = _check_ids(df, id_col, rel) + _check_outcomes(df, spec, rel)
    for name in spec.clinical.covariates:
        if name not in df.columns:
            problems.append(Problem("cohort.yaml", f"clinical.covariates.{name}", f"declared covariate is not a column of {rel}"))
    table = ClinicalTable(df.reset_index(drop=True), path, problems)
    if strict and problems:
        raise CohortSpecError(problems)
    return table


def covariate_columns(table: ClinicalTable, spec: CohortSpec) -> list[str]:
    """Columns that are covariates: everything except id and outcome columns."""
    skip = {spec.id_column, spec.clinical.time_column, spec.clinical.event_column, spec.clinical.diagnosis_column}
    return [c for c in table.frame.columns if c not in skip]
