"""The de-identification pipeline: several detectors, merged spans, one replacement policy.

``PhiPipeline.scrub`` normalises the text (NFC), runs every detector on it, drops spans that
lie inside a protected clinical term (``Hodgkin lymphoma``, ``Bell palsy``: :mod:`.terms`) or
below ``min_confidence``, merges the rest (:mod:`.merge`) and replaces them (:mod:`.replace`).
Name words learnt with strong evidence (titles, labels, credentials: the ``rules`` detector) are
returned so that a caller can remove them from the same patient's other texts
(:meth:`PhiPipeline.scrub_many`). Reports, ECG header comments and free-text DICOM attributes
all go through this one class.
"""

from __future__ import annotations

import os
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from clinfusion.privacy.phi.base import PhiDetector, PhiSpan, make_detector
from clinfusion.privacy.phi.merge import merge_spans
from clinfusion.privacy.phi.replace import ReplacementPolicy, replace_spans
from clinfusion.privacy.phi.rules import RulesDetector, detect_rules
from clinfusion.privacy.phi.terms import protected_spans


@dataclass
class ScrubResult:
    """A scrubbed text and what was replaced.

    Attributes:
        text: the de-identified text.
        counts: PHI type -> number of replacements (no values).
        names: name words learnt from this text (to propagate into the patient's other texts;
            keep in memory only, never write them).
    """

    text: str
    counts: Counter[str] = field(default_factory=Counter)
    names: set[str] = field(default_factory=set)


def _inside(span: PhiSpan, protected: list[tuple[int, int]]) -> bool:
    return any(s <= span.start and span.end <= e for s, e in protected)


def combine_spans(found: list[PhiSpan], text: str, min_confidence: float = 0.0) -> list[PhiSpan]:
    """Drop spans inside protected clinical terms or below ``min_confidence``, then merge the rest.

    Args:
        found: spans of any detectors on ``text``.
        text: the (NFC) text.
        min_confidence: lowest confidence kept.

    Returns:
        Sorted, non-overlapping spans (:func:`.merge.merge_spans`).
    """
    protected = protected_spans(text)
    kept = [s for s in found if s.confidence >= min_confidence and not _inside(s, protected)]
    return merge_spans(kept, text)


class PhiPipeline:
    """Detect, merge and replace PHI.

    Args:
        detectors: detector instances or registry names (``rules``, ``presidio``, ``philter``).
        policy: replacement per PHI type.
        min_confidence: spans below this confidence are ignored.

    Raises:
        ConfigError: an unknown detector name.
    """

    def __init__(self, detectors: Sequence[PhiDetector | str] = ("rules",), policy: ReplacementPolicy | None = None,
                 min_confidence: float = 0.0) -> None:
        self.detectors = [make_detector(d) if isinstance(d, str) else d for d in detectors]
        self.policy = policy or ReplacementPolicy()
        self.min_confidence = min_confidence

    @property
    def name(self) -> str:
        """``+``-joined detector names (``rules+presidio``)."""
        return "+".join(d.name for d in self.detectors)

    def spans(self, text: str, known_names: Iterable[str] = ()) -> tuple[list[PhiSpan], set[str]]:
        """Merged spans of every detector on ``text`` (already NFC) and the name words learnt."""
        found: list[PhiSpan] = []
        learnt: set[str] = set()
        for det in self.detectors:
            if isinstance(det, RulesDetector):
                spans, words = detect_rules(text, set(known_names) | det.known_names)
                found += spans
                learnt |= words
            else:
                found += det.detect(text)
        return combine_spans(found, text, self.min_confidence), learnt

    def scrub(self, text: str, date_shift_days: int, known_names: Iterable[str] = ()) -> ScrubResult:
        """De-identify one text.

        Args:
            text: raw text.
            date_shift_days: the patient's keyed date offset (``Pseudonymizer.date_shift_days``).
            known_names: name words already learnt for this patient.

        Returns:
            The scrubbed text (NFC), replacement counts by type, and the name words learnt
            (including ``known_names``).
        """
        text = unicodedata.normalize("NFC", text)
        spans, learnt = self.spans(text, known_names)
        new, counts = replace_spans(text, spans, date_shift_days, self.policy)
        return ScrubResult(new, Counter({k: v for k, v in counts.items() if v}), learnt | set(known_names))

    def scrub_many(self, texts: Sequence[str], date_shift_days: int) -> list[ScrubResult]:
        """Scrub one patient's texts together: a name learnt in any text is removed from all.

        Two passes: the first learns names from every text, the second scrubs each text with
        the union, so a name written with a title in one report is also removed where another
        report repeats it bare.
        """
        learnt: set[str] = set()
        if any(isinstance(d, RulesDetector) for d in self.detectors):  # only the rules learn names
            for t in texts:
                learnt |= detect_rules(unicodedata.normalize("NFC", t))[1]
        return [self.scrub(t, date_shift_days, learnt) for t in texts]


DETECTORS_ENV = "CLINFUSION_DEID_DETECTORS"
DEFAULT_DETECTORS: tuple[str, ...] = ("rules", "presidio")
"""Detectors of the default pipeline, chosen by bench/deid.py (docs/adr/0003-clinical-text-deid.md)."""


@lru_cache(maxsize=4)
def _cached(names: tuple[str, ...]) -> PhiPipeline:
    return PhiPipeline(names)


def default_pipeline() -> PhiPipeline:
    """The pipeline for reports, ECG comments and DICOM free text: the detectors named by
    ``$CLINFUSION_DEID_DETECTORS`` (comma-separated, e.g. ``rules,presidio,philter``) or
    :data:`DEFAULT_DETECTORS`, with the default policy; built once per detector list.

    Raises:
        ConfigError: an unknown detector name (the message lists the valid ones).
    """
    env = os.environ.get(DETECTORS_ENV, "").strip()
    names = tuple(n.strip() for n in env.split(",") if n.strip()) if env else DEFAULT_DETECTORS
    return _cached(names)
