"""The project's hand-written rules as one :class:`~clinfusion.privacy.phi.base.PhiDetector`.

Patterns run in a fixed order on a *masked* copy of the text: protected medical terms
(:mod:`.terms`) and every span already found are overwritten by a private-use character of the
same length, so offsets never move and no later pattern can match inside an earlier span
(e-mail before URL, identifiers before phone numbers, addresses and institutions before names).
Then: person names by titles, labels and credentials (:mod:`.names`), every learnt name word
(and the caller's ``known_names``) wherever it recurs, ages over 89, and dates (:mod:`.dates`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from clinfusion.privacy.phi.base import PhiSpan, register
from clinfusion.privacy.phi.charclass import LETTER, WORD
from clinfusion.privacy.phi.dates import DATE_RE
from clinfusion.privacy.phi.names import find_names
from clinfusion.privacy.phi.terms import protected_spans, protected_words

MASK = "\ue000"
"""Private-use character written over protected and already-found text (no pattern matches it)."""

# Linear-time patterns: every repetition that could meet a long run of the same characters is
# possessive (``*+``, ``++``: never re-scanned on failure) or bounded (``{0,40}``), and patterns
# that could start anywhere in such a run are anchored by a lookbehind to the start of the run.
# tests/security/test_regex_linear.py runs each of them on 200 kB adversarial inputs.
EMAIL_RE = re.compile(r"(?<![\w.+\-])[\w.+\-]++@[\w\-]++(?:\.[\w\-]++)+")
URL_RE = re.compile(r"\b(?:https?://|www\.)\S++", re.IGNORECASE)
# an identifier token: letters, digits and hyphens with a run of >= 3 digits in its first 44 chars
_ID_TOKEN = r"(?:[A-Z\-]|\d(?!\d\d)){0,40}\d{3}[A-Z0-9\-]*+"
MRN_RE = re.compile(
    rf"\bMRN[\s#:\-]*+{_ID_TOKEN}"
    r"|\b(?:medical\s++record(?:\s++(?:number|no\.?|#))?|record\s++(?:number|no\.?)|hospital\s++(?:number|no\.?)|"
    rf"patient\s++(?:id|number|no\.?))[\s#:\-]*+{_ID_TOKEN}",
    re.IGNORECASE,
)
ID_RE = re.compile(
    r"\b(?:accession|acc|ssn|social\s++security|account|acct|encounter|visit|case|specimen\s++id|lab\s++id|"
    r"health\s++(?:card|plan)|insurance|policy|member|license|licence|device\s++serial)(?:\s++(?:number|no\.?|id|#))?"
    r"[\s#:\-]*+[A-Z]{0,4}[\-]?\d[\dA-Z\-]{3,}+"
    r"|\bACC\d{5,}+\b|\b\d{3}-\d{2}-\d{4}\b",
    re.IGNORECASE,
)
PHONE_RE = re.compile(
    r"(?:\+?1[\s.\-]?)?\(\d{3}\)[\s.\-]?\d{3}[\s.\-]\d{4}\b"
    r"|\b(?:\+?1[\s.\-])?\d{3}[.\-\s]\d{3}[.\-]\d{4}\b"
    r"|\b(?:phone|tel|telephone|fax|pager|mobile|cell|bleep|ext)\.?[\s#:\-]*+\+?[\d()][\d()\s.\-]{5,80}\d",
    re.IGNORECASE,
)
_STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Court|Ct|Way|Row|Crescent|Boulevard|Blvd|"
           r"Place|Pl|Terrace|Hollow|Close|Square|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Walk|Gardens)")
ADDRESS_RE = re.compile(
    rf"\b\d{{1,5}}[ \t]++(?:{WORD}[ \t]++){{1,4}}{_STREET}\b\.?"
    r"(?:[ \t]*+,?[ \t]*+(?:Apt|Suite|Unit)\.?[ \t]*+\w{1,10}+)?"
    rf"(?:[ \t]*+,[ \t]*+{WORD}(?:[ \t]++{WORD}){{0,2}})?"
    r"(?:[ \t]*+,?[ \t]*+[A-Z]{2}[ \t]++\d{5}(?:-\d{4})?)?"
    r"|(?i:\b(?:address|addr|residence|lives at)\b\.?[ \t]*+:[ \t]*+[^\n]++)"
    r"|(?i:\bP\.?O\.?\s++Box\s++\d++)",
)
INSTITUTION_RE = re.compile(
    rf"\b(?:(?i:St)\.?[ \t]++)?(?:{WORD}[ \t]++){{1,4}}"
    r"(?i:Hospital|Medical[ \t]++Cent(?:er|re)|Infirmary|Institute|Clinic|Health[ \t]++System|Healthcare|"
    r"Cancer[ \t]++Cent(?:er|re)|Imaging[ \t]++Cent(?:er|re)|Laboratories|Laboratory)\b"
    r"|(?i:\b(?:institution|hospital|facility)[ \t]*+:[ \t]*+[^\n]++)"
)
AGE_RE = re.compile(
    r"\b(?:9\d|1[0-4]\d)[ \t]*+-?[ \t]*+(?:years?|yrs?)[ \t]*+-?[ \t]*+old\b"
    r"|\b(?:9\d|1[0-4]\d)[ \t]*+(?:y/?o|y\.o\.|yo|yrs?)(?![A-Za-z])"
    r"|\b(?:age[ds]?|aged)[ \t]*+:?[ \t]*+(?:9\d|1[0-4]\d)\b",
    re.IGNORECASE,
)
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", EMAIL_RE), ("URL", URL_RE), ("MRN", MRN_RE), ("ID", ID_RE), ("PHONE", PHONE_RE),
    ("ADDRESS", ADDRESS_RE), ("INSTITUTION", INSTITUTION_RE),
)
"""The pattern steps before names, in order."""

_CONFIDENCE = {"titled": 0.95, "propagated": 0.85}


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for s, e in spans:
        chars[s:e] = MASK * (e - s)
    return "".join(chars)


def _name_word_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({w for w in words if len(w) >= 2}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(rf"(?<!{LETTER})(?:" + "|".join(re.escape(w) for w in words) + rf")(?!{LETTER})", re.IGNORECASE)


def detect_rules(text: str, known_names: Iterable[str] = ()) -> tuple[list[PhiSpan], set[str]]:
    """Run every rule on ``text`` (already NFC-normalised).

    Args:
        text: the text.
        known_names: name words already learnt for this patient (e.g. from another report).

    Returns:
        ``(spans, learnt)``: non-overlapping spans, and the name words found by titles, labels
        and credentials (original case; keep them in memory only, to propagate to the
        patient's other texts).
    """
    masked = _mask(text, protected_spans(text))
    spans: list[PhiSpan] = []

    def add(kind: str, found: list[tuple[int, int]], confidence: float = 1.0) -> None:
        nonlocal masked
        spans.extend(PhiSpan(s, e, kind, confidence, "rules") for s, e in found if e > s)
        masked = _mask(masked, found)

    for kind, pattern in PATTERNS:
        add(kind, [m.span() for m in pattern.finditer(masked)])
    name_spans, learnt = find_names(masked, protected_words())
    add("NAME", name_spans, _CONFIDENCE["titled"])
    pattern = _name_word_pattern(learnt | set(known_names))
    if pattern is not None:
        add("NAME", [m.span() for m in pattern.finditer(masked)], _CONFIDENCE["propagated"])
    add("AGE", [m.span() for m in AGE_RE.finditer(masked)])
    add("DATE", [m.span() for m in DATE_RE.finditer(masked)])
    return spans, learnt


@register("rules")
class RulesDetector:
    """The hand-written rules (:func:`detect_rules`) behind the detector contract.

    Args:
        known_names: name words to remove wherever they occur (set per patient by the pipeline).
    """

    name = "rules"

    def __init__(self, known_names: Iterable[str] = ()) -> None:
        self.known_names = set(known_names)

    def detect(self, text: str) -> list[PhiSpan]:
        """Spans of PHI in ``text``."""
        return detect_rules(text, self.known_names)[0]
