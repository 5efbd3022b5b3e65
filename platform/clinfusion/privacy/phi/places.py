"""Bare place names after a place cue ("lives in Milford", "originally from Fürling").

HIPAA Safe Harbor counts every geographic subdivision smaller than a state as PHI, so a city or
town named on its own is an address part, though no street or postcode is near. Without a
gazetteer of every town, a capitalised word is taken as a place only right after a cue that says
a place follows (``lives in``, ``resides in``, ``born in``, ``originally from``, ``native of``,
``resident of``, ``based in``, ``trip to``, ``travelled to``, ``visiting``, ``I am in``), and only
when it is not a common English or medical word, a stop word, or a country or US state (those are
not PHI): ``lives in Nursing Home`` and ``born in France`` stay. Up to three more capitalised
words joined by a space or `` - `` belong to it (``Pinares - Las Delicias``), and a leading
article or compass word begins it when a place word follows (``El Akarit``, ``North Berwick``).
All-capital words count from four letters (``MILFORD``, never ``ICU``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from clinfusion.privacy.phi.names import _CAP_TOKEN_RE, STOP_WORDS

PLACE_CUE_RE = re.compile(
    r"(?i:\b(?:lives|living|lived|resides|residing|born|grew[ \t]++up|based|i[ \t]++am|i'm|we[ \t]++are|"
    r"vacation(?:ing)?|holiday(?:ing)?)[ \t]++in|\b(?:originally|hails|comes)[ \t]++from|"
    r"\b(?:native|resident|mayor)[ \t]++of|\b(?:trip|travel(?:l)?ed|travel(?:l)?ing|flew|relocated)[ \t]++to|"
    r"\bvisiting)[ \t]++$")
_CUE_WINDOW = 30
_JOIN = (" ", " - ", "-")
_LEADING = frozenset({"el", "la", "le", "les", "los", "las", "al", "san", "santa", "santo", "st", "saint", "sainte",
                      "new", "port", "fort", "mount", "lake", "north", "south", "east", "west", "upper", "lower",
                      "great", "little", "bad", "den", "de"})
"""Words that begin many town names but are words too: a place only before a place word."""
_MAX_WORDS = 4


@lru_cache(maxsize=4)
def _blocked(protected: frozenset[str]) -> frozenset[str]:
    """Lower-case words that never name a place: common and medical words, countries, US states,
    titles, weekdays, stop words (built once: the union of ~200k words costs ~20 ms)."""
    from clinfusion.privacy.phi.gazetteer import common_words, not_name_words, place_words

    return common_words() | place_words() | not_name_words() | protected | STOP_WORDS


def _is_place_word(token: str, blocked: frozenset[str]) -> bool:
    w = token.lower()
    w = w[:-2] if w.endswith(("'s", "\u2019s")) else w
    if w in blocked:
        return False
    return not (token.isupper() and len(token) < 4)


def find_cued_places(text: str, protected: frozenset[str]) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of place names right after a place cue (module docstring).

    Args:
        text: the (masked) text.
        protected: lower-case protected medical words (never places).
    """
    blocked = _blocked(protected)
    toks = list(_CAP_TOKEN_RE.finditer(text))
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        m = toks[i]
        first_ok = _is_place_word(m.group(0), blocked) or (  # "El Akarit", "San Lorenzo", "Port Talbot"
            m.group(0).lower() in _LEADING and i + 1 < len(toks) and text[m.end():toks[i + 1].start()] == " "
            and _is_place_word(toks[i + 1].group(0), blocked))
        if not (first_ok and PLACE_CUE_RE.search(text, max(0, m.start() - _CUE_WINDOW), m.start())):
            i += 1
            continue
        end, j = m.end(), i + 1
        while (j < len(toks) and j - i < _MAX_WORDS and text[end:toks[j].start()] in _JOIN
               and toks[j].group(0).lower() not in STOP_WORDS):
            end, j = toks[j].end(), j + 1
        out.append((m.start(), end))
        i = j
    return out
