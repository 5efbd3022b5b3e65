"""Find person names in report text: titles, labelled fields, credentials, propagation, word lists.

Four sources of evidence, from strongest to weakest:

1. A title (``Dr.``, ``Mr.``, ``Mrs.``, ``Ms.``, ``Prof.``) followed by capitalised words.
2. A labelled field (``Patient:``, ``Name:``, ``Referring physician:``, ``Electronically signed
   by:`` ...) or a credential (``Jane Roe, MD``) around capitalised words, including
   ``Family, Given`` and DICOM ``Family^Given`` forms.
3. Every word learnt from 1-2 (and from names the caller already knows, e.g. from another report
   of the same patient) is then replaced wherever it occurs in the text, case-insensitively.

4. Without a title: capitalised words of the name word lists (:mod:`.gazetteer`; philter-lite's
   first/last-name sets and Faker's names, minus philter's whitelist of common words), ambiguous
   ones (``Rose``, ``Hope``) only beside another name or after a cue, and unlisted capitalised
   words inside a sentence (:func:`find_gazetteer_names`). These are not learnt for propagation.

Words of the protected medical term list (eponyms such as Hodgkin, Wilms, Paget) and common
report words are never learnt as names, so ``Hodgkin lymphoma`` survives even if a physician
shares the name; a name given with a title is still removed at that place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from clinfusion.privacy.phi.charclass import LETTER, MAX_WORD, NAME_CHAR, NOT_AFTER_NAME_CHAR, UPPER, WORD

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


# --- gazetteer names (no title or label needed) ----------------------------------------------------

_CAP_TOKEN_RE = re.compile(rf"{NOT_AFTER_NAME_CHAR}{UPPER}{NAME_CHAR}{{1,{MAX_WORD}}}+")
_CUE_RE = re.compile(
    r"(?i:\b(?:by|named|called|calls\s++me|dear|hi|hello|hey|thanks|thank\s++you|name\s++is|name's|i\s++am|i'm|"
    r"this\s++is|said|asked|told|tell|ask|meet|met|saw|see|per|cc|attn|mr|mrs|ms|miss|mx|dr|prof|sir|madam)"
    r"\.?[ \t]*+[,:]?[ \t]*+)$"
)
_CUE_WINDOW = 24
_PARTICLES_RE = re.compile(r"(?<![^\W\d_])(?:(?:van|von|der|den|de|ter|ten|del|della|dos|bin|ibn|al)[ \t]++){1,3}+$")
GAZETTEER_CONFIDENCE = {"listed": 0.8, "ambiguous": 0.7, "adjacent": 0.6, "unlisted": 0.5}
"""Confidence of a listed name word, of an ambiguous one (also a common word) taken by context,
and of an unlisted capitalised word taken because it stands next to a name."""


def _kind(token: str, protected: frozenset[str], names: frozenset[str], common: frozenset[str],
          not_names: frozenset[str], places: frozenset[str]) -> str:
    """``name`` (listed, not a common word), ``ambiguous`` (listed and common, or a protected
    eponym word that is also a listed name: ``Smith``, ``Gilbert``), ``unknown`` (in neither list)
    or ``word`` (common only, a stop word or another protected medical word)."""
    w = token.lower()
    w = w[:-2] if w.endswith(("'s", "\u2019s")) else w
    if w in STOP_WORDS or (token.isupper() and len(token) > 1):
        return "word"
    if w in protected:  # an eponym's word: a name only with evidence ("Andrea Smith"), never alone
        return "ambiguous" if w in names and w not in common and w not in places else "word"
    if w in not_names:
        return "word"
    parts = [x for x in re.split(r"[\-'\u2019]", w) if len(x) > 1]
    if not parts:  # I'd, O'
        return "word"
    if len(parts) > 1 or parts[0] != w:  # Well-expanded, T-spine: a common part makes it a word; Smith-Jones: names
        if any(x in common or x in protected or _stem(x) in common for x in parts):
            return "word"
        return "name" if all(x in names for x in parts) else "unknown"
    listed, is_common = w in names, w in common or w in places
    if listed:
        return "ambiguous" if is_common else "name"
    return "word" if is_common or _stem(w) in common else "unknown"


def _stem(w: str) -> str:
    """``w`` without one English inflection (shielded -> shield, lucencies -> lucency)."""
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("ly", ""), ("s", ""), ("d", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: len(w) - len(suffix)] + repl
    return w


_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n\u2022*\-\"(\[]|\d\.)[ \t]*+$")


def find_gazetteer_names(text: str, protected: frozenset[str]) -> list[tuple[int, int, float]]:
    """Bare person names found by word lists (:mod:`.gazetteer`), without a title or label.

    Only capitalised words (``Margaret``, not ``margaret``; all-capital acronyms never) count:

    * a listed name word that is not a common word is a name (``Seen by Margaret today``);
    * a listed name word that is also a common word (``Rose``, ``Hope``, ``Will``) is a name only
      next to another name word (``Rose Hope``, ``Hope Margolis``) or after a cue (``by``,
      ``named``, ``my name is``, ``Dear``, a title), so ``Hope of recovery`` survives;
    * an unlisted capitalised word (in neither list) directly beside a name is part of it
      (``Andi Ruf``).

    Protected medical words (eponyms: :mod:`.terms`) and :data:`STOP_WORDS` are never names.

    Args:
        text: the (masked) text.
        protected: lower-case protected words.

    Returns:
        ``(start, end, confidence)`` per name word (:data:`GAZETTEER_CONFIDENCE`).
    """
    from clinfusion.privacy.phi.gazetteer import (
        common_words,
        first_names,
        name_words,
        not_name_words,
        place_words,
    )

    names, common, not_names, places = name_words(), common_words(), not_name_words(), place_words()
    toks = [(m.start(), m.end(), _kind(m.group(0), protected, names, common, not_names, places))
            for m in _CAP_TOKEN_RE.finditer(text)]
    conf: list[float] = [GAZETTEER_CONFIDENCE["listed"] if k == "name" else 0.0 for _, _, k in toks]
    _by_context(text, toks, conf, first_names())
    for i, (s, _, k) in enumerate(toks):  # an unlisted proper noun (in neither list) inside a sentence,
        if k == "unknown" and not conf[i] and (   # or two of them side by side: a name or a place
                _beside(text, toks, i, lambda j: toks[j][2] == "unknown")
                or not _SENTENCE_START.search(text, max(0, s - 8), s)):
            conf[i] = GAZETTEER_CONFIDENCE["unlisted"]
    _propagate(text, toks, conf)
    spans = [(s, e, c) for (s, e, _), c in zip(toks, conf, strict=True) if c]
    for i, (s, e, k) in enumerate(toks):  # "Roxy van der Torre", "van den Heuvel": particles join the name
        m = _PARTICLES_RE.search(text, max(0, s - 20), s)
        if m is not None and k != "word":
            begin = m.start()
            if i > 0 and toks[i - 1][2] != "word" and text[toks[i - 1][1]:begin] in (" ", "\t"):
                begin = toks[i - 1][0]  # the given name before the particles ("Jan van der Berg")
            spans.append((begin, e, conf[i] or GAZETTEER_CONFIDENCE["adjacent"]))
    return spans


_Token = tuple[int, int, str]


def _propagate(text: str, toks: list[_Token], conf: list[float]) -> None:
    """A word taken as a name somewhere in the text is a name wherever it recurs in that text,
    also at a sentence start (``Aemi: What a wife. ... Remember me, Aemi?``). Common words found
    only by context (``Hope`` beside ``Rose``) are not spread: they stay words elsewhere."""
    found = {text[s:e] for (s, e, k), c in zip(toks, conf, strict=True) if c and k in ("name", "unknown")}
    for i, (s, e, k) in enumerate(toks):
        if not conf[i] and k in ("name", "unknown") and text[s:e] in found:
            conf[i] = GAZETTEER_CONFIDENCE["adjacent"]


def _adjacent(text: str, toks: list[_Token], i: int, j: int) -> bool:
    """Token ``j`` directly follows token ``i`` (one space, a tab or a hyphen between)."""
    return 0 <= i < j < len(toks) and text[toks[i][1]:toks[j][0]] in (" ", "\t", "  ", "-")


def _beside(text: str, toks: list[_Token], i: int, ok: Callable[[int], bool]) -> bool:
    """A neighbour ``j`` of token ``i`` with ``ok(j)`` stands directly next to it."""
    return (i > 0 and ok(i - 1) and _adjacent(text, toks, i - 1, i)) or (
        i + 1 < len(toks) and ok(i + 1) and _adjacent(text, toks, i, i + 1))


def _by_context(text: str, toks: list[_Token], conf: list[float], first: frozenset[str]) -> None:
    """Set ``conf`` of ambiguous words with a cue or a name beside them, and of unlisted words beside a name."""
    for i in range(len(toks) - 1):  # "Rose Hope": a given name and a name word, both also common words
        if (toks[i][2] == toks[i + 1][2] == "ambiguous" and _adjacent(text, toks, i, i + 1)
                and text[toks[i][0]:toks[i][1]].lower() in first):
            conf[i] = conf[i + 1] = GAZETTEER_CONFIDENCE["ambiguous"]
    changed = True
    while changed:  # a few rounds at most: each round only adds names next to names
        changed = False
        for i, (s, _, k) in enumerate(toks):
            if conf[i] or k not in ("ambiguous", "unknown"):
                continue
            beside = _beside(text, toks, i, lambda j: bool(conf[j]))
            if k == "ambiguous" and (beside or _CUE_RE.search(text, max(0, s - _CUE_WINDOW), s)):
                conf[i], changed = GAZETTEER_CONFIDENCE["ambiguous"], True
            elif k == "unknown" and beside:
                conf[i], changed = GAZETTEER_CONFIDENCE["adjacent"], True
