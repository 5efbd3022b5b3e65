"""The de-identified report record written by the reader and read by encoders and export.

Artifacts: ``reports/<pseudonym>.jsonl`` in an item's artifact directory, one JSON object per
report: ``report`` (index within the patient's item), ``kind``, ``date`` (shifted, as written,
or ``""``), ``source``, ``text`` (scrubbed), ``sections`` (list of ``{name, text, sentences}``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from clinfusion.modalities.reports.dates import DATE_RE
from clinfusion.modalities.reports.sections import split_sections
from clinfusion.modalities.reports.sentences import split_sentences

ARTIFACT_DIR = "reports"
KIND_KEYWORDS: tuple[str, ...] = ("radiology", "pathology", "discharge", "progress", "operative", "consult", "ecg",
                                  "cytology", "echo", "nursing")


def kind_from_name(name: str) -> str:
    """Report kind from a file name by keyword only (names may carry PHI, so never copied)."""
    low = name.lower()
    return next((k for k in KIND_KEYWORDS if k in low), "report")


_DATE_LABEL_RE = re.compile(r"(?i)(?:date\s+of\s+(?:service|exam(?:ination)?|study|report|procedure)|"
                            r"(?:exam|study|service|report|procedure|collection)\s+date|date\s+received|"
                            r"finali[sz]ed|signed)[^\n:]{0,3}:?[ \t]*(?:on[ \t]+)?$")


def report_date(text: str) -> str:
    """The report's own date: the first date after a service/exam/report label, else the first
    date not labelled as a birth date, else ``""``."""
    fallback = ""
    for m in DATE_RE.finditer(text):
        before = text[max(0, m.start() - 40):m.start()]
        if _DATE_LABEL_RE.search(before):
            return m.group(0)
        if not fallback and not re.search(r"(?i)(?:dob|birth)\W*$", before):
            fallback = m.group(0)
    return fallback


def build_record(index: int, kind: str, date: str, source: str, scrubbed: str) -> dict[str, Any]:
    """A report record from scrubbed text: sections and their sentences.

    Args:
        index: report index within the item.
        kind: report kind.
        date: the report date (already shifted) or ``""``; taken from the text when empty.
        source: de-identified source label.
        scrubbed: de-identified report text.
    """
    if not date:
        date = report_date(scrubbed)
    sections = [{"name": s.name, "text": s.text, "sentences": split_sentences(s.text)} for s in split_sections(scrubbed)]
    return {"report": index, "kind": kind, "date": date, "source": source, "text": scrubbed, "sections": sections}


def write_records(out_dir: Path, pseudonym: str, records: list[dict[str, Any]]) -> str:
    """Write a patient's records as JSON lines; returns the path relative to ``out_dir``."""
    rel = Path(ARTIFACT_DIR) / f"{pseudonym}.jsonl"
    path = out_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records), encoding="utf-8")
    return rel.as_posix()


def read_records(artifact_dir: Path, pseudonym: str) -> list[dict[str, Any]]:
    """A patient's records from an item's artifact directory (``[]`` when it has none there)."""
    path = Path(artifact_dir) / ARTIFACT_DIR / f"{pseudonym}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sentences_of(record: dict[str, Any], sections: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """``(section name, sentence)`` pairs of a record, optionally only of the given sections."""
    return [(s["name"], sent) for s in record["sections"] if sections is None or s["name"] in sections
            for sent in s["sentences"]]
