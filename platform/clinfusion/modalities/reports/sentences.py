"""Sentence splitting tuned for clinical reports.

Splits after ``.``, ``!``, ``?`` followed by whitespace, at line breaks that start a list item
or a new line of text, and before enumerations (``1.``, ``2)``), but not after common
abbreviations (``Dr.``, ``e.g.``, ``approx.``, ``vs.``), single initials or inside decimals
(``3.5 cm``). Pure function; no model.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset({
    "dr", "mr", "mrs", "ms", "prof", "st", "e.g", "i.e", "vs", "approx", "no", "nos", "fig", "cf", "etc",
    "incl", "pt", "pts", "hx", "sx", "dx", "rx", "jr", "sr",
})
"""Tokens (lower case, without the final dot) after which a dot does not end a sentence."""

# Possessive ``\s++`` / ``\s*+`` (the next token never starts with a space, so nothing is lost):
# a long run of whitespace is scanned once, not once per position.
_BOUNDARY = re.compile(r"(?<=[.!?])\s++(?=\S)|\n\s*\n|\n(?=\s*+(?:\d{1,2}[.)]|[-*\u2022])\s)")
_ENUM = re.compile(r"(?<=\S)\s++(?=\d{1,2}[.)]\s++[A-Za-z])")
_TAIL = 48  # characters before a boundary that can hold an abbreviation (all are far shorter)


def _ends_with_abbreviation(text: str, start: int, end: int) -> bool:
    """Whether the chunk ``text[start:end]`` ends with an abbreviation (its dot is not a sentence end).

    Looks at the last :data:`_TAIL` characters only, so a long run of abbreviations
    (``e.g. e.g. ...``) costs O(n), not a re-scan of the growing chunk at every dot.
    """
    if end - start <= 16 and re.fullmatch(r"\s*\d{1,2}[.)]\s*", text[start:end]):
        return True  # an enumeration number ("1.") belongs to the sentence that follows
    tail = text[max(start, end - _TAIL):end].rstrip()
    if not tail.endswith(".") or len(tail) < 2 or tail[-2].isspace():
        return False
    word = tail[:-1].split()[-1].lower().lstrip("([")
    return word in ABBREVIATIONS or bool(re.fullmatch(r"[a-z]", word))


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences.

    Args:
        text: a section body or a whole report.

    Returns:
        Stripped, non-empty sentences in order; whitespace inside a sentence is collapsed.
    """
    pieces: list[str] = []
    pos = 0
    for m in list(_BOUNDARY.finditer(text)) + [None]:
        end = len(text) if m is None else m.start()
        if m is not None and _ends_with_abbreviation(text, pos, end) and "\n" not in m.group(0):
            continue
        pieces.append(text[pos:end])
        pos = len(text) if m is None else m.end()
    out: list[str] = []
    for piece in pieces:
        for part in _ENUM.split(piece):
            s = re.sub(r"\s+", " ", part).strip()
            if s and re.search(r"[A-Za-z0-9]", s):
                out.append(s)
    return out
