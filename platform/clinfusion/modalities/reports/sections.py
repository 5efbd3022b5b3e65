"""Split a report into canonical sections by its headers (``FINDINGS:``, ``IMPRESSION:`` ...).

A header is a known heading (case-insensitive) followed by a colon, at the start of a line or
after a sentence end; text before the first header becomes the ``PREAMBLE`` section. Aliases
map to one canonical name (``CONCLUSION`` -> ``IMPRESSION``, ``REASON FOR EXAM`` ->
``INDICATION``), so reports from different writers give comparable section names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREAMBLE = "PREAMBLE"

SECTION_ALIASES: dict[str, tuple[str, ...]] = {
    "INDICATION": ("indication", "indications", "reason for exam", "reason for examination", "reason for study",
                   "clinical indication"),
    "HISTORY": ("history", "clinical history", "clinical information", "clinical data", "clinical notes",
                "clinical details"),
    "COMPARISON": ("comparison", "comparisons", "prior studies", "prior study", "priors"),
    "TECHNIQUE": ("technique", "procedure", "protocol", "examination", "exam", "study"),
    "FINDINGS": ("findings", "finding", "report", "description"),
    "IMPRESSION": ("impression", "impressions", "conclusion", "conclusions", "summary", "opinion"),
    "SPECIMEN": ("specimen", "specimens", "specimen submitted", "specimens submitted"),
    "GROSS": ("gross description", "gross", "macroscopic description", "macroscopy"),
    "MICROSCOPIC": ("microscopic description", "microscopic", "microscopy", "histology"),
    "DIAGNOSIS": ("diagnosis", "final diagnosis", "pathologic diagnosis", "pathological diagnosis", "diagnoses"),
    "SYNOPTIC": ("synoptic report", "synoptic", "tumor summary", "cancer summary"),
    "RECOMMENDATION": ("recommendation", "recommendations", "follow-up", "followup"),
    "COMMENT": ("comment", "comments", "note", "notes", "addendum"),
}
"""Canonical section name -> headings that introduce it (lower case)."""

_ALIAS_TO_CANON = {alias: canon for canon, aliases in SECTION_ALIASES.items() for alias in aliases}
# longest aliases first so "final diagnosis" wins over "diagnosis"
_ALTERNATION = "|".join(re.escape(a).replace(r"\ ", r"\s++") for a in sorted(_ALIAS_TO_CANON, key=len, reverse=True))
_HEADER_RE = re.compile(rf"(?:^|(?<=\n)|(?<=[.;]\s)|(?<=[.;]))[ \t]*+(?P<head>{_ALTERNATION})[ \t]*+:", re.IGNORECASE)


@dataclass(frozen=True)
class Section:
    """One section of a report.

    Attributes:
        name: canonical name (a key of :data:`SECTION_ALIASES`, or ``PREAMBLE``).
        heading: the heading as written (``""`` for the preamble).
        text: the section body, stripped.
        start: character offset of the body in the report.
    """

    name: str
    heading: str
    text: str
    start: int


def canonical_section(heading: str) -> str | None:
    """Canonical name of a heading (``"Clinical  History"`` -> ``"HISTORY"``), or ``None``."""
    return _ALIAS_TO_CANON.get(re.sub(r"\s+", " ", heading.strip().lower()))


def split_sections(text: str) -> list[Section]:
    """Split ``text`` at known headers.

    Args:
        text: the whole report.

    Returns:
        Non-empty sections in order of appearance (a report without headers gives one
        ``PREAMBLE`` section; an empty report gives none).
    """
    marks = [(m.start("head"), m.end(), m.group("head")) for m in _HEADER_RE.finditer(text)]
    out: list[Section] = []
    body_start, name, heading = 0, PREAMBLE, ""
    for head_start, body, head in marks:
        _append(out, name, heading, text, body_start, head_start)
        body_start, name, heading = body, _ALIAS_TO_CANON[re.sub(r"\s+", " ", head.lower())], head
    _append(out, name, heading, text, body_start, len(text))
    return out


def _append(out: list[Section], name: str, heading: str, text: str, start: int, end: int) -> None:
    raw = text[start:end]
    body = raw.strip()
    if body:
        out.append(Section(name, heading, body, start + (len(raw) - len(raw.lstrip()))))
