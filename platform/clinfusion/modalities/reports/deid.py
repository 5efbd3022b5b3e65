"""PHI scrubbing of report text through the shared pipeline (:mod:`clinfusion.privacy.phi`).

``scrub_text`` / ``scrub_reports`` run :func:`clinfusion.privacy.phi.default_pipeline`: the detectors named by
``$CLINFUSION_DEID_DETECTORS`` (comma-separated registry names, e.g. ``rules,presidio``) or
:data:`DEFAULT_DETECTORS`, with the default replacement policy: typed tags (``[NAME]``, ``[MRN]``,
``[ID]``, ``[PHONE]``, ``[ADDRESS]``, ``[INSTITUTION]``, ``[EMAIL]``, ``[URL]``, ``[AGE>89]``) and
dates shifted by the patient's keyed offset in their own format. Words of the protected medical
term list (``medical_terms.csv``) are never treated as names. Counts by type, never values.
The choice of default detectors is measured by ``bench/deid.py`` (docs/adr/0003-clinical-text-deid.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from clinfusion.privacy.phi import DEFAULT_DETECTORS, PhiPipeline, ScrubResult, default_pipeline
from clinfusion.privacy.phi.rules import (  # noqa: F401  (patterns re-exported for tests/security/test_regex_linear.py)
    ADDRESS_RE,
    AGE_RE,
    EMAIL_RE,
    ID_RE,
    INSTITUTION_RE,
    MRN_RE,
    PHONE_RE,
    URL_RE,
)
from clinfusion.privacy.phi.terms import medical_terms, protected_words, terms_pattern

PHI_TYPES: tuple[str, ...] = ("EMAIL", "URL", "MRN", "ID", "PHONE", "ADDRESS", "INSTITUTION", "NAME", "AGE>89", "DATE")
"""Keys of the replacement counts of a report (``AGE>89`` is the ``AGE`` span type)."""
__all__ = ["DEFAULT_DETECTORS", "PHI_TYPES", "ScrubResult", "default_pipeline", "medical_terms", "protected_words",
           "scrub_reports", "scrub_text"]


def _terms_pattern() -> re.Pattern[str]:
    return terms_pattern()


def _renamed(result: ScrubResult) -> ScrubResult:
    counts = result.counts
    if "AGE" in counts:
        counts["AGE>89"] = counts.pop("AGE")
    return result


def scrub_text(text: str, date_shift_days: int, known_names: Iterable[str] = (),
               pipeline: PhiPipeline | None = None) -> ScrubResult:
    """Remove PHI from one report.

    Args:
        text: raw report text.
        date_shift_days: the patient's keyed date offset (``Pseudonymizer.date_shift_days``).
        known_names: name words already learnt for this patient (e.g. from other reports).
        pipeline: detectors and policy (default :func:`default_pipeline`).

    Returns:
        The scrubbed text, replacement counts by type and the name words learnt.
    """
    return _renamed((pipeline or default_pipeline()).scrub(text, date_shift_days, known_names))


def scrub_reports(texts: list[str], date_shift_days: int, pipeline: PhiPipeline | None = None) -> list[ScrubResult]:
    """Scrub one patient's reports together: names learnt in any report are removed from all."""
    return [_renamed(r) for r in (pipeline or default_pipeline()).scrub_many(texts, date_shift_days)]
