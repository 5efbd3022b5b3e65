"""Unicode-aware character classes for the report patterns (Python ``re`` has no ``\\p{Lu}``).

``re`` is Unicode-aware for ``\\w`` and ``\\b`` but ``[A-Z]`` is ASCII only, so ``José Muñoz``
was cut at the first accented letter. :data:`UPPER` is a character class of every upper- and
title-case letter of the scripts names are written in (Latin, Greek, Cyrillic, Armenian,
Georgian, Latin Extended Additional, full-width Latin), built once from :mod:`unicodedata`
(about 16k code points scanned at import, ~2 ms). :data:`LETTER` is any Unicode letter
(``\\w`` minus digits and underscore). Report text is NFC-normalised before scrubbing, so a
name written with combining accents (``e`` + U+0301) is one letter per character here too.
"""

from __future__ import annotations

import unicodedata

_RANGES = ((0x41, 0x5A), (0xC0, 0x24F), (0x370, 0x58F), (0x10A0, 0x10FF), (0x1E00, 0x1FFF),
           (0x2C00, 0x2C7F), (0xA640, 0xA7FF), (0xFF21, 0xFF3A))


def _char_class(codepoints: list[int]) -> str:
    """A ``[...]`` class of the given sorted code points, compressed into ranges."""
    parts: list[str] = []
    i = 0
    while i < len(codepoints):
        j = i
        while j + 1 < len(codepoints) and codepoints[j + 1] == codepoints[j] + 1:
            j += 1
        lo, hi = chr(codepoints[i]), chr(codepoints[j])
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return "[" + "".join(parts) + "]"


def _upper_codepoints() -> list[int]:
    return [c for lo, hi in _RANGES for c in range(lo, hi + 1)
            if unicodedata.category(chr(c)) in ("Lu", "Lt")]


UPPER = _char_class(_upper_codepoints())
"""One upper- or title-case letter (regex character class)."""
LETTER = r"[^\W\d_]"
"""One Unicode letter (regex character class)."""
NAME_CHAR = rf"(?:{LETTER}|['\-\u2019])"
"""A character inside a name word: a letter, an apostrophe (straight or typographic) or a hyphen."""
MAX_WORD = 40
"""Longest name word matched (characters after the capital). Bounded so that no pattern scans a
long run of letters from every position (the quadratic blow-up of unbounded ``+``)."""
WORD = rf"{UPPER}{NAME_CHAR}{{1,{MAX_WORD}}}+"
"""A capitalised name word of 2..MAX_WORD+1 characters (possessive: never re-scanned)."""
NOT_AFTER_NAME_CHAR = rf"(?<!{LETTER})(?<!['\-\u2019])"
"""Lookbehind: the position does not follow a name character (a word starts here)."""


def normalize(text: str) -> str:
    """NFC form of ``text`` (composed accents), as the patterns expect."""
    return unicodedata.normalize("NFC", text)
