"""philter (``philter-lite``, UCSF) as a :class:`~clinfusion.privacy.phi.base.PhiDetector`.

Philter is a whitelist system validated on the i2b2 2014 de-identification corpus: its shipped
configuration (``philter_delta.toml``: ~300 regex, set and context filters) marks as PHI every
token that no "safe" filter (medical vocabulary, common English) claims. It tags each token with
NLTK's part-of-speech tagger; the tagger's data (``averaged_perceptron_tagger_eng``) is a
separate download that no package installs here, so when it is absent this detector gives
philter a shape-based tagger instead (digits -> ``CD``, capitalised -> ``NNP``, else ``NN``),
which only affects philter's POS filters (the "CD" catch-all and POS-restricted name sets).
Philter's types (``Name``, ``DATE``, ``Age``, ``Email``, ``Provider_Address_or_Location``,
``OTHER``) map to ours; ``OTHER`` tokens are typed by their shape.

The configuration loads on the first :meth:`PhilterDetector.detect` (about 2.5 s, 5 MB of sets).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from clinfusion.privacy.phi.base import PhiSpan, register

PHILTER_TYPES = {"DATE": "DATE", "Name": "NAME", "Age": "AGE", "Email": "EMAIL",
                 "Patient_Social_Security_Number": "ID", "Provider_Address_or_Location": "ADDRESS"}
_PHONE_SHAPE = re.compile(r"\+?[\d() .\-]{7,}")
_CONFIDENCE = 0.7
MAX_TOKEN_CHARS = 40
_LONG_TOKEN = re.compile(rf"\S{{{MAX_TOKEN_CHARS + 1},}}+")


@lru_cache(maxsize=1)
def _filters() -> list[Any]:
    from importlib import resources

    import philter_lite

    return philter_lite.load_filters(str(resources.files("philter_lite").joinpath("configs/philter_delta.toml")))


def nltk_tagger_available() -> bool:
    """Whether NLTK's perceptron tagger data is installed locally."""
    import nltk

    for name in ("taggers/averaged_perceptron_tagger_eng", "taggers/averaged_perceptron_tagger"):
        try:
            nltk.data.find(name)
            return True
        except LookupError:
            continue
    return False


def _shape_pos(text: str) -> list[tuple[str, str]]:
    from philter_lite import philter as ph

    return [(w, "CD" if w.isdigit() else ("NNP" if w[:1].isupper() else "NN")) for w in ph._get_clean(text)]


CHUNK_CHARS = 1000
_BREAK = re.compile(r"\n|\s(?=\S)")


def _chunks(text: str) -> list[tuple[int, str]]:
    """``(offset, piece)`` of at most :data:`CHUNK_CHARS` characters, cut after a line break or
    at a space where possible (never inside a word shorter than the chunk)."""
    out, start = [], 0
    while start < len(text):
        end = min(start + CHUNK_CHARS, len(text))
        if end < len(text):
            cut = [m.end() for m in _BREAK.finditer(text, start + CHUNK_CHARS // 2, end)]
            end = cut[-1] if cut else end
        out.append((start, text[start:end]))
        start = end
    return out


def _shape_type(word: str) -> str:
    if any(c.isdigit() for c in word):
        return "PHONE" if _PHONE_SHAPE.fullmatch(word) and sum(c.isdigit() for c in word) >= 7 else "ID"
    return "NAME"


@register("philter")
class PhilterDetector:
    """philter-lite with its shipped ``philter_delta`` configuration (see the module doc)."""

    name = "philter"

    def __init__(self) -> None:
        self._ready = False

    def _load(self) -> None:
        from philter_lite import philter as ph

        if not nltk_tagger_available():
            ph._get_pos = _shape_pos  # philter calls this module function for every text
        _filters()
        self._ready = True

    def detect(self, text: str) -> list[PhiSpan]:
        """Spans of PHI in ``text`` (philter has no scores: confidence 0.7)."""
        import philter_lite

        if not self._ready:
            self._load()
        # philter is super-linear in its input (a 5,000-letter token took 13 s, 20,000 took 204 s):
        # tokens over MAX_TOKEN_CHARS are blanked (same length, offsets kept; the rules still see
        # them) and the text is run in chunks of at most CHUNK_CHARS, so the cost is linear in length
        safe = _LONG_TOKEN.sub(lambda m: " " * len(m.group(0)), text)
        out = []
        for offset, chunk in _chunks(safe):
            if not chunk.strip():
                continue
            _, _, tracker = philter_lite.detect_phi(chunk, _filters())
            for p in tracker.phi:
                start, stop = offset + p.start, offset + p.stop
                if stop > start and text[start:stop].strip():
                    kind = PHILTER_TYPES.get(p.phi_type) or _shape_type(text[start:stop])
                    out.append(PhiSpan(start, stop, kind, _CONFIDENCE, self.name))
        return out
