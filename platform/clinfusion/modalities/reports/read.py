"""ReportsReader: per-patient text files and a cohort-level ``reports.csv`` -> de-identified records.

Per-patient files (``reports/<pid>/*.txt``) form one item per patient, so a name learnt in one
report is removed from all of them. A CSV (columns ``<id_column>``, ``date``, ``kind``,
``text``) is a cohort-level item: its rows are grouped by patient, scrubbed per patient, written
as ``reports/<pseudonym>.jsonl`` and the raw ids returned in ``IngestResult.patients``. Rows of
patients not in the clinical table and unreadable files are rejected with a reason, never
dropped silently. The CSV ``date`` column is date-shifted when the whole cell is a date (any
format of :mod:`.dates`, optionally with a time of day); a row whose date cell holds anything
else (a name, an MRN) is rejected with the reason "date is not a date", and the value is never
stored. Reports longer than ``max_report_chars`` or with a line longer than ``max_line_chars``
are rejected before de-identification. Metadata holds counts only (reports, kinds, sections, sentences, PHI
replacements by type), never text.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from clinfusion.cohort.discovery import DiscoveredFile
from clinfusion.errors import IngestError
from clinfusion.modalities.base import IngestContext, IngestResult, Item, Reader
from clinfusion.modalities.reports.dates import shift_date_value
from clinfusion.modalities.reports.deid import scrub_reports
from clinfusion.modalities.reports.record import build_record, kind_from_name, write_records


class ReportsOptions(BaseModel):
    """Reader options (``modalities.reports.options`` in cohort.yaml).

    Attributes:
        text_extensions: suffixes of per-patient report files (others are rejected).
        date_column, kind_column, text_column: columns of a reports CSV (the id column is the
            cohort's ``id_column``).
        encoding: text encoding tried first (``cp1252`` is the fallback).
        max_line_chars: a report with a longer line is rejected ("line N longer than L
            characters"); bounds the work of de-identification on hostile input.
        max_report_chars: a longer report (file or CSV text cell) is rejected.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    text_extensions: tuple[str, ...] = (".txt", ".text")
    date_column: str = "date"
    kind_column: str = "kind"
    text_column: str = "text"
    encoding: str = "utf-8"
    max_line_chars: int = Field(100_000, ge=80)
    max_report_chars: int = Field(5_000_000, ge=1000)


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class ReportsReader(Reader):
    """Reads free-text reports (per-patient text files or a cohort-level CSV)."""

    modality = "reports"
    version = "1"
    Options = ReportsOptions

    def group(self, files: list[DiscoveredFile]) -> list[list[DiscoveredFile]]:
        """A patient's text files form one item; each cohort-level file is its own item."""
        if files and files[0].patient_id is not None:
            return [list(files)]
        return [[f] for f in files]

    def read(self, item: Item, ctx: IngestContext, out_dir: Path) -> IngestResult:
        if item.patient_id is None:
            return self._read_csv(item, ctx, out_dir)
        return self._read_patient_files(item, ctx, out_dir)

    def _read_patient_files(self, item: Item, ctx: IngestContext, out_dir: Path) -> IngestResult:
        opts: ReportsOptions = ctx.options  # type: ignore[assignment]  # IngestContext.options is typed BaseModel; the runner validated it with this reader's Options
        pid = item.patient_id
        assert pid is not None
        pseudonym = ctx.pseudonym(pid)
        rejected: dict[str, str] = {}
        texts: list[tuple[DiscoveredFile, str]] = []
        for f in item.files:
            if f.path.suffix.lower() not in opts.text_extensions:
                rejected[f.rel] = f"not a report text file: expected one of {list(opts.text_extensions)}"
                continue
            text = _decode(f.path.read_bytes(), opts.encoding)
            problem = "empty report" if not text.strip() else size_problem(text, opts)
            if problem:
                rejected[f.rel] = problem
                continue
            texts.append((f, text))
        if not texts:
            raise IngestError(f"no readable report among {len(item.files)} file(s)", file=item.primary.rel, field="text")
        scrubbed = scrub_reports([t for _, t in texts], ctx.pseudonymizer.date_shift_days(pid))
        records = [
            build_record(i, kind_from_name(f.path.name), "", f"file{i}{f.path.suffix.lower()}", s.text)
            for i, ((f, _), s) in enumerate(zip(texts, scrubbed, strict=True))
        ]
        artifact = write_records(out_dir, pseudonym, records)
        meta = _metadata(records, sum((s.counts for s in scrubbed), Counter()))
        return IngestResult(artifacts=[artifact], metadata=meta, rejected=rejected)

    def _read_csv(self, item: Item, ctx: IngestContext, out_dir: Path) -> IngestResult:
        opts: ReportsOptions = ctx.options  # type: ignore[assignment]  # IngestContext.options is typed BaseModel; the runner validated it with this reader's Options
        rel = item.primary.rel
        df = _read_table(item.primary.path, rel)
        id_col = ctx.spec.id_column
        missing = [c for c in (id_col, opts.text_column) if c not in df.columns]
        if missing:
            raise IngestError(f"missing column(s) {missing}; expected {id_col}, {opts.text_column} and optionally "
                              f"{opts.date_column}, {opts.kind_column}; found {list(df.columns)}", file=rel, field=missing[0])
        rejected: dict[str, str] = {}
        by_patient: dict[str, list[tuple[int, pd.Series]]] = {}
        for n, row in df.iterrows():
            pid, text = str(row[id_col]).strip(), row[opts.text_column]
            if pid not in ctx.known_patients:
                rejected[f"{rel}#row{int(n) + 2}"] = f"{id_col} is not in the clinical table"
            elif not isinstance(text, str) or not text.strip():
                rejected[f"{rel}#row{int(n) + 2}"] = f"empty {opts.text_column}"
            elif size_problem(text, opts):
                rejected[f"{rel}#row{int(n) + 2}"] = f"{opts.text_column}: {size_problem(text, opts)}"
            elif _has(row, opts.date_column) and shift_date_value(row[opts.date_column], 0) is None:
                rejected[f"{rel}#row{int(n) + 2}"] = (f"{opts.date_column} is not a date (expected e.g. 2024-03-07 or "
                                                      "03/07/2024; the value is not stored)")
            else:
                by_patient.setdefault(pid, []).append((int(n), row))
        if not by_patient:
            raise IngestError("no report row of a known patient", file=rel, field=id_col)
        counts: Counter[str] = Counter()
        all_records: list[dict[str, Any]] = []
        artifacts = []
        for pid, rows in sorted(by_patient.items()):
            shift = ctx.pseudonymizer.date_shift_days(pid)
            scrubbed = scrub_reports([r[opts.text_column] for _, r in rows], shift)
            records = []
            for i, ((_, row), s) in enumerate(zip(rows, scrubbed, strict=True)):
                date = (shift_date_value(row[opts.date_column], shift) or "") if _has(row, opts.date_column) else ""
                kind = kind_from_name(str(row[opts.kind_column])) if _has(row, opts.kind_column) else "report"
                records.append(build_record(i, kind, date, f"{Path(rel).name}#{i}", s.text))
                counts += s.counts
            artifacts.append(write_records(out_dir, ctx.pseudonym(pid), records))
            all_records += records
        meta = {**_metadata(all_records, counts), "n_patients": len(by_patient)}
        return IngestResult(artifacts=artifacts, metadata=meta, rejected=rejected, patients=sorted(by_patient))


def size_problem(text: str, opts: ReportsOptions) -> str:
    """Why a report is too large to scrub (``""`` when it is not): total length, then line length."""
    if len(text) > opts.max_report_chars:
        return f"report of {len(text)} characters longer than max_report_chars {opts.max_report_chars}"
    for n, line in enumerate(text.splitlines(), 1):
        if len(line) > opts.max_line_chars:
            return f"line {n} longer than {opts.max_line_chars} characters (max_line_chars)"
    return ""


def _has(row: pd.Series, column: str) -> bool:
    return column in row.index and isinstance(row[column], str) and bool(row[column].strip())


def _read_table(path: Path, rel: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise IngestError(f"not a readable CSV table: {err}", file=rel) from None


def _metadata(records: list[dict[str, Any]], phi: Counter[str]) -> dict[str, Any]:
    sections = Counter(s["name"] for r in records for s in r["sections"])
    return {
        "n_reports": len(records),
        "kinds": dict(sorted(Counter(r["kind"] for r in records).items())),
        "sections": dict(sorted(sections.items())),
        "n_sentences": sum(len(s["sentences"]) for r in records for s in r["sections"]),
        "phi_replacements": dict(sorted(phi.items())),
    }
