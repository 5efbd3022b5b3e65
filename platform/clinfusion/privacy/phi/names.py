"""Find person names in report text: titles, labelled fields, credentials, and propagation.

Three sources of evidence, from strongest to weakest:

1. A title (``Dr.``, ``Mr.``, ``Mrs.``, ``Ms.``, ``Prof.``) followed by capitalised words.
2. A labelled field (``Patient:``, ``Name:``, ``Referring physician:``, ``Electronically signed
   by:`` ...) or a credential (``Jane Roe, MD``) around capitalised words, including
   ``Family, Given`` and DICOM ``Family^Given`` forms.
3. Every word learnt from 1-2 (and from names the caller already knows, e.g. from another report
   of the same patient) is then replaced wherever it occurs in the text, case-insensitively.

Words of the protected medical term list (eponyms such as Hodgkin, Wilms, Paget) and common
report words are never learnt as names, so ``Hodgkin lymphoma`` survives even if a physician
shares the name; a name given with a title is still removed at that place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from clinfusion.privacy.phi.charclass import LETTER, NAME_CHAR, NOT_AFTER_NAME_CHAR, UPPER, WORD

NAME_TAG = "[NAME]"
_TITLE = r"(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Doctor|Professor)\.?"
_WORD = WORD
_INITIAL = rf"{UPPER}\."
# Every repetition below is bounded (name words, ``{1,80}``) or possessive (``[ \t]++``), and
# the credential pattern may only start where a word starts: without that, a run of n letters
# made every position try a word of up to n letters (O(n^2); 25k letters took 62 s).
_TITLED_RE = re.compile(rf"\b{_TITLE}[ \t]++(?P<name>{_WORD}(?:[ \t]++{_INITIAL})?(?:[ \t]++{_WORD})?)")
_LABELS = (
    r"patient(?:'s)?(?:\s++name)?", r"pt\.?(?:\s++name)?", r"name", r"full name", r"patient full name",
    r"(?:referring|ordering|attending|requesting|consulting|primary)(?:\s++(?:physician|doctor|clinician|provider))?",
    r"physician", r"doctor", r"clinician", r"provider", r"surgeon", r"pathologist", r"radiologist",
    r"resident", r"fellow", r"technologist", r"transcriptionist", r"cc", r"copy to", r"next of kin",
    r"(?:electronically\s++)?(?:signed|verified|reviewed|dictated|transcribed|read|reported|approved|interpreted)"
    r"(?:\s++(?:out|by)){0,3}",
    r"signature", r"guardian", r"mother", r"father", r"spouse", r"contact",
)
_LABEL_RE = re.compile(rf"(?im)\b(?:{'|'.join(_LABELS)})[ \t]*+[:#\-][ \t]*+(?P<rest>[^\n]{{1,80}})")
_CREDENTIAL_RE = re.compile(
    rf"{NOT_AFTER_NAME_CHAR}(?P<name>{_WORD}(?:[ \t]++{_INITIAL})?[ \t]++{_WORD}),?[ \t]++"
    r"(?:MD|M\.D\.|DO|D\.O\.|PhD|MBBS|FRCR|FRCPath|FRCP|RN|NP|PA-C)\b"
)
_TOKEN_RE = re.compile(rf"{LETTER}{NAME_CHAR}*+\.?|[,^]")
_COLLAPSE_RE = re.compile(r"\[NAME\](?:[ \t]*+[,^]?[ \t]*+\[NAME\])+")

STOP_WORDS = frozenset(["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "he", "her", "his", "in", "is", "it", "its", "no", "not", "of", "on", "or", "she", "the", "their", "there", "this", "to", "was", "were", "with", "without", "patient", "pt", "name", "male", "female", "man", "woman", "year", "years", "old", "yo", "age", "aged", "history", "report", "reports", "findings", "impression", "indication", "comparison", "technique", "none", "unknown", "normal", "mrn", "dob", "sex", "date", "phone", "tel", "address", "md", "do", "phd", "signed", "electronically", "by", "dictated", "reviewed", "verified", "transcribed", "read", "radiology", "pathology", "department", "hospital", "clinic", "center", "centre", "medical", "institute", "referring", "physician", "doctor", "pathologist", "radiologist", "exam", "study", "chest", "ct", "mri", "xray", "x-ray", "left", "right", "final", "diagnosis", "specimen", "attending", "ordering"])
"""Words never learnt as names (compared in lower case)."""


def _name_words(rest: str, protected: frozenset[str]) -> tuple[int, int, list[str]] | None:
    """Leading name-like words of ``rest``: (start, end, words), or ``None``.

    Accepts up to four capitalised words (titles and single initials skipped as words, kept in
    the span), joined by spaces, a comma or ``^``; stops at the first other token.
    """
    words: list[str] = []
    start = end = None
    for m in _TOKEN_RE.finditer(rest):
        tok = m.group(0)
        gap = rest[0 if end is None else end:m.start()]
        if gap.strip() not in ("", ",", "^") or (end is None and gap.strip()):
            break
        if tok in (",", "^"):
            continue
        bare = tok.rstrip(".")
        if re.fullmatch(_TITLE, tok, re.IGNORECASE) or (len(bare) == 1 and bare.isupper()):
            start, end = (m.start() if start is None else start), m.end()
            continue
        if not bare[0].isupper() or bare.lower() in STOP_WORDS or bare.lower() in protected or len(words) == 4:
            break
        words.append(bare)
        start, end = (m.start() if start is None else start), m.start() + len(bare)
    if not words or start is None or end is None:
        return None
    return start, end, words


def find_names(text: str, protected: frozenset[str]) -> tuple[list[tuple[int, int]], set[str]]:
    """Spans of names found by titles, labels and credentials, and the words they contain.

    Args:
        text: report text.
        protected: lower-case words that are never names (medical eponyms).

    Returns:
        ``(spans, words)``: character spans ``(start, end)`` to replace, and the name words
        learnt (original case) for propagation.
    """
    spans: list[tuple[int, int]] = []
    learnt: set[str] = set()
    for m in _TITLED_RE.finditer(text):
        spans.append(m.span("name"))
        learnt.update(w for w in re.findall(_WORD, m.group("name")) if _learnable(w, protected))
    for m in _LABEL_RE.finditer(text):
        found = _name_words(m.group("rest"), protected)
        if found is not None:
            s, e, words = found
            spans.append((m.start("rest") + s, m.start("rest") + e))
            learnt.update(w for w in words if _learnable(w, protected))
    for m in _CREDENTIAL_RE.finditer(text):
        words = re.findall(_WORD, m.group("name"))
        if all(_learnable(w, protected) for w in words):
            spans.append(m.span("name"))
            learnt.update(words)
    return spans, learnt


def _learnable(word: str, protected: frozenset[str]) -> bool:
    w = word.lower()
    return len(w) >= 2 and w not in STOP_WORDS and w not in protected


def replace_spans(text: str, spans: Iterable[tuple[int, int]], tag: str) -> tuple[str, int]:
    """Replace (possibly overlapping) character spans by ``tag``; returns (text, number replaced)."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    parts, pos = [], 0
    for s, e in merged:  # one join, not a new copy of the text per span (that was O(n * spans))
        parts += [text[pos:s], tag]
        pos = e
    parts.append(text[pos:])
    return "".join(parts), len(merged)


def propagate_names(text: str, words: Iterable[str]) -> tuple[str, int]:
    """Replace every occurrence of the learnt name words (case-insensitive, whole words).

    Consecutive replacements (``[NAME] [NAME]``, ``[NAME], [NAME]``) collapse into one tag.
    """
    words = sorted({w for w in words if len(w) >= 2}, key=len, reverse=True)
    if not words:
        return text, 0
    pattern = re.compile(rf"(?<!{LETTER})(?:" + "|".join(re.escape(w) for w in words) + rf")(?!{LETTER})", re.IGNORECASE)
    text, n = pattern.subn(NAME_TAG, text)
    text = _COLLAPSE_RE.sub(NAME_TAG, text)
    return text, n
