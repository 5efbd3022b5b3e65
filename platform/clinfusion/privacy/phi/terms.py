"""Protected clinical vocabulary: words and terms that no detector may turn into PHI.

``medical_terms.csv`` (term, category; shipped as package data) lists eponyms and other clinical
terms that look like names (``Hodgkin lymphoma``, ``Bell palsy``, ``Parkinson disease``). The
rules never learn their words as names, and the pipeline drops any span of any detector that
lies inside an occurrence of a protected multi-word term.
"""

from __future__ import annotations

import csv
import io
import re
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def medical_terms() -> tuple[str, ...]:
    """The protected medical terms shipped as package data (``medical_terms.csv``: term, category)."""
    text = resources.files("clinfusion.privacy.phi").joinpath("medical_terms.csv").read_text("utf-8")
    return tuple(row["term"] for row in csv.DictReader(io.StringIO(text)) if row["term"].strip())


@lru_cache(maxsize=1)
def protected_words() -> frozenset[str]:
    """Lower-case words of the protected terms: never learnt as person names."""
    return frozenset(w.lower() for t in medical_terms() for w in re.findall(r"[A-Za-z][A-Za-z'\-]+", t) if len(w) > 1)


@lru_cache(maxsize=1)
def terms_pattern() -> re.Pattern[str]:
    """Occurrences of the protected terms that contain a capital (eponyms), longest first."""
    terms = sorted({t for t in medical_terms() if re.search(r"[A-Z]", t)}, key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z])(?:" + "|".join(re.escape(t) for t in terms) + r")(?![A-Za-z])", re.IGNORECASE)


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of protected terms in ``text``."""
    return [m.span() for m in terms_pattern().finditer(text)]
