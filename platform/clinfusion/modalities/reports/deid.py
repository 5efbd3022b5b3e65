"""PHI scrubbing of report text: typed surrogates and per-patient date shifts.

``scrub_text`` replaces, in this order (earlier steps protect digits from later ones):
e-mail addresses ``[EMAIL]``, URLs ``[URL]``, identifiers (MRN, accession, SSN, labelled ids)
``[MRN]`` / ``[ID]``, phone and fax numbers ``[PHONE]``, street addresses ``[ADDRESS]``,
institutions ``[INSTITUTION]``, person names ``[NAME]`` (see :mod:`.names`), ages over 89
``[AGE>89]``; finally every date is shifted by the patient's keyed offset, keeping its format
(see :mod:`.dates`). Words of the protected medical term list (``medical_terms.csv``, shipped
with the package) are never treated as names. Pure functions; counts by type, never values.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from clinfusion.modalities.reports.charclass import WORD, normalize
from clinfusion.modalities.reports.dates import shift_dates
from clinfusion.modalities.reports.names import find_names, propagate_names, replace_spans

PHI_TYPES: tuple[str, ...] = ("EMAIL", "URL", "MRN", "ID", "PHONE", "ADDRESS", "INSTITUTION", "NAME", "AGE>89", "DATE")

# Linear-time patterns: every repetition that could meet a long run of the same characters is
# possessive (``*+``, ``++``: never re-scanned on failure) or bounded (``{0,40}``), and patterns
# that could start anywhere in such a run are anchored by a lookbehind to the start of the run.
# tests/security/test_regex_linear.py runs each of them on 200 kB adversarial inputs.
_EMAIL_RE = re.compile(r"(?<![\w.+\-])[\w.+\-]++@[\w\-]++(?:\.[\w\-]++)+")
_URL_RE = re.compile(r"\b(?:https?://|www\.)\S++", re.IGNORECASE)
# an identifier token: letters, digits and hyphens with a run of >= 3 digits in its first 44 chars
_ID_TOKEN = r"(?:[A-Z\-]|\d(?!\d\d)){0,40}\d{3}[A-Z0-9\-]*+"
_MRN_RE = re.compile(
    rf"\bMRN[\s#:\-]*+{_ID_TOKEN}"
    r"|\b(?:medical\s++record(?:\s++(?:number|no\.?|#))?|record\s++(?:number|no\.?)|hospital\s++(?:number|no\.?)|"
    rf"patient\s++(?:id|number|no\.?))[\s#:\-]*+{_ID_TOKEN}",
    re.IGNORECASE,
)
_ID_RE = re.compile(
    r"\b(?:accession|acc|ssn|social\s++security|account|acct|encounter|visit|case|specimen\s++id|lab\s++id|"
    r"health\s++(?:card|plan)|insurance|policy|member|license|licence|device\s++serial)(?:\s++(?:number|no\.?|id|#))?"
    r"[\s#:\-]*+[A-Z]{0,4}[\-]?\d[\dA-Z\-]{3,}+"
    r"|\bACC\d{5,}+\b|\b\d{3}-\d{2}-\d{4}\b",
    re.IGNORECASE,
)
_PHONE_RE = re.compile(
    r"(?:\+?1[\s.\-]?)?\(\d{3}\)[\s.\-]?\d{3}[\s.\-]\d{4}\b"
    r"|\b(?:\+?1[\s.\-])?\d{3}[.\-\s]\d{3}[.\-]\d{4}\b"
    r"|\b(?:phone|tel|telephone|fax|pager|mobile|cell|bleep|ext)\.?[\s#:\-]*+\+?[\d()][\d()\s.\-]{5,80}\d",
    re.IGNORECASE,
)
_STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Court|Ct|Way|Row|Crescent|Boulevard|Blvd|"
           r"Place|Pl|Terrace|Hollow|Close|Square|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Walk|Gardens)")
_ADDRESS_RE = re.compile(
    rf"\b\d{{1,5}}[ \t]++(?:{WORD}[ \t]++){{1,4}}{_STREET}\b\.?"
    r"(?:[ \t]*+,?[ \t]*+(?:Apt|Suite|Unit)\.?[ \t]*+\w{1,10}+)?"
    rf"(?:[ \t]*+,[ \t]*+{WORD}(?:[ \t]++{WORD}){{0,2}})?"
    r"(?:[ \t]*+,?[ \t]*+[A-Z]{2}[ \t]++\d{5}(?:-\d{4})?)?"
    r"|(?i:\b(?:address|addr|residence|lives at)\b\.?[ \t]*+:[ \t]*+[^\n]++)"
    r"|(?i:\bP\.?O\.?\s++Box\s++\d++)",
)
_INSTITUTION_RE = re.compile(
    rf"\b(?:(?i:St)\.?[ \t]++)?(?:{WORD}[ \t]++){{1,4}}"
    r"(?i:Hospital|Medical[ \t]++Cent(?:er|re)|Infirmary|Institute|Clinic|Health[ \t]++System|Healthcare|"
    r"Cancer[ \t]++Cent(?:er|re)|Imaging[ \t]++Cent(?:er|re)|Laboratories|Laboratory)\b"
    r"|(?i:\b(?:institution|hospital|facility)[ \t]*+:[ \t]*+[^\n]++)"
)
_AGE_RE = re.compile(
    r"\b(?:9\d|1[0-4]\d)[ \t]*+-?[ \t]*+(?:years?|yrs?)[ \t]*+-?[ \t]*+old\b"
    r"|\b(?:9\d|1[0-4]\d)[ \t]*+(?:y/?o|y\.o\.|yo|yrs?)(?![A-Za-z])"
    r"|\b(?:age[ds]?|aged)[ \t]*+:?[ \t]*+(?:9\d|1[0-4]\d)\b",
    re.IGNORECASE,
)
_PIPELINE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", _EMAIL_RE), ("URL", _URL_RE), ("MRN", _MRN_RE), ("ID", _ID_RE), ("PHONE", _PHONE_RE),
    ("ADDRESS", _ADDRESS_RE), ("INSTITUTION", _INSTITUTION_RE),
)


@lru_cache(maxsize=1)
def medical_terms() -> tuple[str, ...]:
    """The protected medical terms shipped as package data (``medical_terms.csv``: term, category)."""
    text = resources.files("clinfusion.modalities.reports").joinpath("medical_terms.csv").read_text("utf-8")
    return tuple(row["term"] for row in csv.DictReader(io.StringIO(text)) if row["term"].strip())


@lru_cache(maxsize=1)
def protected_words() -> frozenset[str]:
    """Lower-case words of the protected terms: never learnt as person names."""
    return frozenset(w.lower() for t in medical_terms() for w in re.findall(r"[A-Za-z][A-Za-z'\-]+", t) if len(w) > 1)


@dataclass
class ScrubResult:
    """A scrubbed text and what was replaced.

    Attributes:
        text: the de-identified text.
        counts: PHI type -> number of replacements (no values).
        names: name words learnt from this text (to propagate into the patient's other reports;
            keep in memory only, never write them).
    """

    text: str
    counts: Counter[str] = field(default_factory=Counter)
    names: set[str] = field(default_factory=set)


def _protect_terms(text: str) -> tuple[str, dict[str, str]]:
    """Swap protected multi-word terms for placeholders so no pattern can cut through them."""
    kept: dict[str, str] = {}
    pattern = _terms_pattern()

    def repl(m: re.Match[str]) -> str:
        key = chr(0xE000 + len(kept))  # a private-use character: no pattern matches it
        kept[key] = m.group(0)
        return key

    return pattern.sub(repl, text), kept


@lru_cache(maxsize=1)
def _terms_pattern() -> re.Pattern[str]:
    terms = sorted({t for t in medical_terms() if re.search(r"[A-Z]", t)}, key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z])(?:" + "|".join(re.escape(t) for t in terms) + r")(?![A-Za-z])")


def scrub_text(text: str, date_shift_days: int, known_names: Iterable[str] = ()) -> ScrubResult:
    """Remove PHI from one report.

    Args:
        text: raw report text.
        date_shift_days: the patient's keyed date offset (``Pseudonymizer.date_shift_days``).
        known_names: name words already learnt for this patient (e.g. from other reports).

    Returns:
        The scrubbed text, replacement counts by type and the name words learnt.
    """
    counts: Counter[str] = Counter()
    protected = protected_words()
    text, kept = _protect_terms(normalize(text))
    for kind, pattern in _PIPELINE:
        text, n = pattern.subn(f"[{kind}]", text)
        counts[kind] += n
    spans, learnt = find_names(text, protected)
    text, n = replace_spans(text, spans, "[NAME]")
    counts["NAME"] += n
    learnt |= set(known_names)
    text, n = propagate_names(text, learnt)
    counts["NAME"] += n
    text, n = _AGE_RE.subn("[AGE>89]", text)
    counts["AGE>89"] += n

    def count_date() -> None:
        counts["DATE"] += 1

    text = shift_dates(text, date_shift_days, count_date)
    for key, value in kept.items():
        text = text.replace(key, value)
    return ScrubResult(text, Counter({k: v for k, v in counts.items() if v}), learnt)


def scrub_reports(texts: list[str], date_shift_days: int) -> list[ScrubResult]:
    """Scrub one patient's reports together: names learnt in any report are removed from all.

    Two passes: the first learns names from every report, the second scrubs each report with
    the union, so a name written with a title in one report is also removed where another
    report repeats it bare.
    """
    learnt: set[str] = set()
    for t in texts:
        learnt |= scrub_text(t, date_shift_days).names
    return [scrub_text(t, date_shift_days, learnt) for t in texts]
