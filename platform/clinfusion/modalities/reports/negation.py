"""NegEx-style assertion of a mention: affirmed, negated or uncertain.

After Chapman et al. (2001), "A simple algorithm for identifying negated findings and diseases
in discharge summaries": a *pre* trigger (``no``, ``without``, ``negative for``) negates the
mentions that follow it in the same sentence, a *post* trigger (``is ruled out``, ``not seen``)
the mentions before it; the scope ends at a *termination* term (``but``, ``however``,
``which``) or after :data:`SCOPE_WORDS` words; a *pseudo* trigger (``no change``, ``not
only``, ``without change``) looks like a trigger but is not one and is skipped. Uncertainty
(``possible``, ``may represent``, ``cannot be excluded``) works the same way and is checked
after negation, so ``no definite effusion`` is negated and ``cannot exclude effusion`` is
uncertain (the pseudo trigger ``not excluded`` keeps it from reading as a negation).

Structured ``label: value`` lines (pathology synoptic reports, templated radiology) are read as
well: a mention in the label before a colon takes the assertion of a value that is a bare
negation or uncertainty (``Tumour-infiltrating lymphocytes: absent``, ``Lymphovascular invasion:
not identified``, ``Pneumothorax: none``, ``Nodal status: indeterminate``), see :data:`COLON_NEGATED`
and :data:`COLON_UNCERTAIN`; otherwise the colon ends a scope (``Lungs: no mass`` negates ``mass``
only through the ``no`` after the colon).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache
from typing import Literal

Assertion = Literal["present", "absent", "uncertain"]
SCOPE_WORDS = 12
"""Largest distance in words between a trigger and the mention it scopes (lists of findings
after ``no`` in chest reports run long: ``no focal consolidation, pleural effusion or
pneumothorax``)."""

PSEUDO = ("no change", "no significant change", "no interval change", "not only", "no increase", "no decrease",
          "without change", "without interval change", "not necessarily", "gram negative", "not excluded",
          "cannot be excluded", "can not be excluded", "cannot exclude", "can't exclude", "not be excluded",
          "no longer seen", "not ruled out", "not been ruled out", "no other", "not significantly changed")
PRE_NEGATION = ("no", "not", "without", "negative for", "no evidence of", "no evidence for", "no signs of",
                "no sign of", "absence of", "absent", "free of", "rules out", "ruled out", "denies", "denied",
                "no suspicious", "no definite", "no acute", "no radiographic evidence of", "never", "resolution of",
                "resolved", "clear of", "nor", "neither", "none", "no findings of", "fails to reveal", "not demonstrate",
                "no new", "removal of", "interval removal of")
POST_NEGATION = ("is absent", "are absent", "not seen", "not identified", "not present", "not demonstrated",
                 "not visualized", "not appreciated", "is ruled out", "are ruled out", "has resolved",
                 "have resolved", "resolved", "no longer present", "no longer visualized", "unlikely", "was ruled out",
                 "is not seen", "are not seen", "is normal", "are normal", "within normal limits",
                 "has been removed", "have been removed", "not evident", "is negative", "absent", "not detected",
                 "are negative", "none seen", "none identified")
PRE_UNCERTAIN = ("possible", "possibly", "probable", "probably", "may represent", "could represent", "may be",
                 "could be", "might be", "questionable", "question of", "suspicious for", "suspected",
                 "suggestive of", "suggests", "concerning for", "concern for", "likely", "versus", "vs",
                 "differential", "differential diagnosis", "equivocal", "cannot exclude", "can't exclude",
                 "cannot be excluded", "not excluded", "cannot rule out", "can not rule out", "rule out",
                 "evaluate for", "to exclude", "worrisome for", "compatible with", "consider", "may reflect",
                 "could reflect", "may relate", "presumably", "presumed", "?")
POST_UNCERTAIN = ("cannot be excluded", "can not be excluded", "not excluded", "is not excluded",
                  "is possible", "is suspected", "is questioned", "is likely", "are likely", "not ruled out",
                  "is not entirely excluded", "?")
TERMINATION = ("but", "however", "although", "though", "except", "aside from", "apart from", "which", "that",
               "secondary to", "due to", "with", "nevertheless", "yet", "there is", "there are",
               "otherwise", "consistent with", "as well as", "causing", "now", ";", ":")


def _phrase_re(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Any of ``phrases`` as a whole word (punctuation phrases such as ``;`` or ``?`` match
    anywhere, also right after a word: ``left; right``)."""
    alts = sorted(set(phrases), key=len, reverse=True)

    def one(p: str) -> str:
        body = re.escape(p).replace(r"\ ", r"\s++")
        head = r"(?<![A-Za-z'])" if p[:1].isalnum() else ""
        tail = r"(?![A-Za-z'])" if p[-1:].isalnum() else ""
        return head + body + tail

    return re.compile("|".join(one(p) for p in alts), re.IGNORECASE)


_PSEUDO_RE = _phrase_re(PSEUDO)
_TRIGGERS = (
    ("absent", "pre", _phrase_re(PRE_NEGATION)),
    ("absent", "post", _phrase_re(POST_NEGATION)),
    ("uncertain", "pre", _phrase_re(PRE_UNCERTAIN)),
    ("uncertain", "post", _phrase_re(POST_UNCERTAIN)),
)
COLON_NEGATED = ("absent", "negative", "none", "no", "nil", "not seen", "not identified", "not present",
                 "not detected", "not demonstrated", "not visualized", "not evident", "not appreciated",
                 "not applicable", "not found", "none identified", "none seen", "no evidence")
"""Values of a ``label: value`` line that negate the label (``Lymphovascular invasion: not identified``)."""
COLON_UNCERTAIN = ("indeterminate", "equivocal", "cannot be excluded", "cannot be assessed", "cannot be determined",
                   "possible", "suspected", "suspicious", "uncertain", "questionable", "not excluded", "unclear")
"""Values of a ``label: value`` line that make the label uncertain (``Margin status: cannot be assessed``)."""
COLON_LABEL_WORDS = 8
"""Longest distance in words from a mention to the colon of the label it is part of."""

_TERM_RE = _phrase_re(TERMINATION)
_COLON_NEG_RE = _phrase_re(COLON_NEGATED)
_COLON_UNC_RE = _phrase_re(COLON_UNCERTAIN)
_WORD_RE = re.compile(r"[A-Za-z0-9'?]+")


def _words_between(sentence: str, a: int, b: int) -> int:
    return len(_WORD_RE.findall(sentence[a:b]))


def _blocked(sentence: str, a: int, b: int) -> bool:
    """True when a termination term, or a sentence-like break, lies between offsets a and b."""
    gap = sentence[a:b]
    return bool(_TERM_RE.search(gap)) or bool(re.search(r"[.!]\s", gap))


SCOPE_CHARS = SCOPE_WORDS * 30
"""Largest distance in characters between a trigger and the mention it scopes: a bound on
top of :data:`SCOPE_WORDS` so that each mention looks at the triggers of a window around it,
not of the whole sentence (a 200 kB sentence of mentions and triggers was cubic)."""


def _in_scope(sentence: str, span: tuple[int, int], trig: tuple[int, int], direction: str) -> bool:
    start, end = span
    t_start, t_end = trig
    if direction == "pre":
        if t_end > start:
            return False
        return _words_between(sentence, t_end, start) <= SCOPE_WORDS and not _blocked(sentence, t_end, start)
    if t_start < end:
        return False
    return _words_between(sentence, end, t_start) <= SCOPE_WORDS // 2 and not _blocked(sentence, end, t_start)


@lru_cache(maxsize=8)
def _sentence_triggers(sentence: str) -> tuple[list[int], list[tuple[int, int, str, str, bool]]]:
    """Every trigger of a sentence, by start: ``(starts, [(start, end, kind, direction, in_pseudo)])``.

    Computed once per sentence (cached: :func:`assert_mention` is called once per mention).
    """
    pseudo = sorted(m.span() for m in _PSEUDO_RE.finditer(sentence))
    pseudo_starts = [ps for ps, _ in pseudo]
    trigs = []
    for kind, direction, pattern in _TRIGGERS:
        for m in pattern.finditer(sentence):
            i = bisect_right(pseudo_starts, m.start()) - 1
            inside = i >= 0 and m.start() < pseudo[i][1]
            trigs.append((m.start(), m.end(), kind, direction, inside))
    trigs.sort()
    return [t[0] for t in trigs], trigs


def _colon_value(sentence: str, span: tuple[int, int]) -> Assertion | None:
    """The assertion a ``label: value`` line gives a mention inside its label, or None.

    The mention must sit in the label: the text from the mention to the next colon holds no
    sentence break, semicolon, termination term or another colon and at most
    :data:`COLON_LABEL_WORDS` words. The value must start with a negation (:data:`COLON_NEGATED`)
    or uncertainty (:data:`COLON_UNCERTAIN`) phrase that is not a pseudo trigger (``no change``).
    """
    end = span[1]
    colon = sentence.find(":", end)
    if colon < 0:
        return None
    gap = sentence[end:colon]
    if re.search(r"[.;!?]", gap) or _TERM_RE.search(gap) or _words_between(sentence, end, colon) > COLON_LABEL_WORDS:
        return None
    value = sentence[colon + 1:].lstrip()
    pseudo = _PSEUDO_RE.match(value)
    if pseudo is not None:
        return None
    if _COLON_NEG_RE.match(value) is not None:
        return "absent"
    if _COLON_UNC_RE.match(value) is not None:
        return "uncertain"
    return None


def assert_mention(sentence: str, span: tuple[int, int]) -> Assertion:
    """Whether the mention at ``span`` of ``sentence`` is affirmed, negated or uncertain.

    Args:
        sentence: one sentence.
        span: character span of the mention in ``sentence``.

    Returns:
        the assertion of the value when the mention is the label of a ``label: value`` line whose
        value is a bare negation or uncertainty; else ``"absent"`` when a negation trigger scopes it, else ``"uncertain"`` when an
        uncertainty trigger does, else ``"present"``.
    """
    labelled = _colon_value(sentence, span)
    if labelled is not None:
        return labelled
    starts, trigs = _sentence_triggers(sentence)
    found: dict[str, bool] = {"absent": False, "uncertain": False}
    lo = bisect_left(starts, span[0] - SCOPE_CHARS)
    hi = bisect_right(starts, span[1] + SCOPE_CHARS)
    for t_start, t_end, kind, direction, inside_pseudo in trigs[lo:hi]:
        if kind == "absent" and inside_pseudo:
            continue
        if t_start < span[1] and t_end > span[0]:
            continue  # the trigger is part of the mention itself
        if _in_scope(sentence, span, (t_start, t_end), direction):
            found[kind] = True
    if found["absent"]:
        return "absent"
    return "uncertain" if found["uncertain"] else "present"
