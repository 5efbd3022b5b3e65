"""Negation-aware finding extraction: a small vocabulary of findings with synonyms.

Each finding has regular-expression synonyms; every mention in every sentence is asserted with
:func:`~clinfusion.modalities.reports.negation.assert_mention`, and a report's status of a
finding is ``present`` if any mention is affirmed, else ``uncertain`` if any is uncertain, else
``absent`` if any is negated, else ``not_mentioned``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from clinfusion.modalities.reports.negation import assert_mention

FINDINGS: dict[str, tuple[str, ...]] = {
    "cardiomegaly": (r"cardiomegaly", r"cardiac\s+enlargement", r"enlarged\s+(?:heart|cardiac\s+silhouette|cardiac\s+"
                     r"shadow|cardiomediastinal\s+silhouette)", r"(?:heart|cardiac)\s+(?:size\s+)?(?:is\s+|appears\s+)?"
                     r"(?:mildly\s+|moderately\s+|markedly\s+|slightly\s+)?enlarged", r"cardiomegal\w*"),
    "effusion": (r"(?:pleural\s+)?effusions?", r"blunting\s+of\s+the\s+(?:\w+\s+)?costophrenic",
                 r"costophrenic\s+(?:angle\s+)?blunting", r"pleural\s+fluid"),
    "opacity": (r"opacit(?:y|ies)", r"opacification", r"densit(?:y|ies)", r"airspace\s+disease"),
    "pneumothorax": (r"pneumothora(?:x|ces)",),
    "consolidation": (r"consolidat(?:ion|ions|ive|ed)",),
    "edema": (r"(?:pulmonary\s+|interstitial\s+|alveolar\s+)?o?edema", r"vascular\s+congestion",
              r"pulmonary\s+congestion", r"(?:heart\s+)?failure", r"chf"),
    "atelectasis": (r"atelecta(?:sis|ses|tic)", r"volume\s+loss", r"collapse"),
    "nodule": (r"nodules?", r"nodular\s+(?:opacit(?:y|ies)|densit(?:y|ies))"),
    "mass": (r"mass(?:es)?(?!\s+effect)", r"tumou?r(?![-\s]+infiltrating)", r"neoplasm", r"malignancy"),
    "fracture": (r"fractures?", r"fractured"),
    "emphysema": (r"emphysema(?:tous)?", r"copd", r"chronic\s+obstructive\s+(?:pulmonary|lung)\s+disease",
                  r"hyperinflat(?:ion|ed)", r"hyperexpan(?:sion|ded)", r"bullae", r"bullous"),
    "pneumonia": (r"pneumonias?", r"infectious\s+process", r"infection"),
    "granuloma": (r"granulomas?", r"granulomatous", r"calcified\s+(?:nodules?|granulomas?)"),
    "scoliosis": (r"scoliosis", r"scoliotic", r"levoscoliosis", r"dextroscoliosis"),
    "hernia": (r"hiatal\s+hernia", r"hiatus\s+hernia", r"hernias?"),
    "infiltrate": (r"infiltrates?", r"infiltration"),
    "atherosclerosis": (r"atherosclero\w*", r"(?:aortic|vascular)\s+calcifications?", r"calcified\s+aort\w*",
                        r"tortuous\s+aorta", r"aortic\s+tortuosity"),
    "scarring": (r"scar(?:ring|s)?", r"cicatri\w*", r"fibrosis", r"fibrotic"),
    "degenerative": (r"degenerative\s+(?:changes?|disease)", r"spondylosis", r"osteophytes?", r"arthritis",
                     r"arthropathy"),
    "device": (r"catheters?", r"(?:endotracheal|nasogastric|chest|feeding)\s+tubes?", r"pacemaker", r"picc",
               r"port-?a-?cath", r"sternotomy\s+wires?", r"(?:surgical\s+)?clips", r"stents?", r"leads?"),
    # oncology (CT staging and surgical pathology reports)
    "metastasis": (r"(?:(?:nodal|lymph\s+node|distant|osseous|bone|hepatic|liver|brain|adrenal|pulmonary)\s+)?"
                   r"metasta(?:sis|ses)", r"metastatic\s+(?:disease|deposits?|lesions?|spread|involvement)"),
    "lymphadenopathy": (r"lymphadenopathy", r"adenopathy", r"enlarged\s+(?:\w+\s+){0,2}lymph\s+nodes?",
                        r"(?:lymph\s+)?nodal\s+enlargement"),
    "tumour_infiltrating_lymphocytes": (r"tumou?r[-\s]+infiltrating\s+lymphocytes?", r"TILs"),
    "lymphovascular_invasion": (r"lymphovascular\s+invasion", r"lymph-?vascular\s+invasion", r"LVI",
                                r"angiolymphatic\s+invasion"),
    "necrosis": (r"(?:tumou?r\s+)?necrosis", r"necrotic"),
}
"""Finding -> regular-expression synonyms (case-insensitive, matched on word boundaries)."""

STATUSES: tuple[str, ...] = ("present", "uncertain", "absent", "not_mentioned")


@dataclass(frozen=True)
class Mention:
    """One mention of a finding.

    Attributes:
        finding: vocabulary key.
        sentence_index: index of the sentence in the list given.
        span: character span in that sentence.
        assertion: ``present``, ``absent`` or ``uncertain``.
    """

    finding: str
    sentence_index: int
    span: tuple[int, int]
    assertion: str


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    return {f: re.compile(r"(?<![A-Za-z])(?:" + "|".join(syn) + r")(?![A-Za-z])", re.IGNORECASE)
            for f, syn in FINDINGS.items()}


NESTED_KEPT: frozenset[str] = frozenset({"opacity", "granuloma", "nodule"})
"""Findings kept even when their mention lies inside a longer mention of another finding (``nodular
opacity`` is a nodule and an opacity); any other nested mention is dropped (``tumour`` in
``tumour necrosis`` is not a mass, ``nodal metastasis`` is not a nodule)."""


def find_mentions(sentences: Iterable[str]) -> list[Mention]:
    """Every finding mention in ``sentences``, asserted.

    A mention strictly inside a longer mention of another finding is dropped unless its finding is
    in :data:`NESTED_KEPT`.
    """
    out: list[Mention] = []
    for i, sentence in enumerate(sentences):
        found = [(finding, m.span()) for finding, pattern in _patterns().items() for m in pattern.finditer(sentence)]
        for finding, (a, b) in found:
            nested = any(f != finding and c <= a and b <= d and (d - c) > (b - a) for f, (c, d) in found)
            if nested and finding not in NESTED_KEPT:
                continue
            out.append(Mention(finding, i, (a, b), assert_mention(sentence, (a, b))))
    return out


def report_findings(sentences: Iterable[str]) -> dict[str, str]:
    """Status of every vocabulary finding in one report.

    Returns:
        ``{finding: status}`` for every key of :data:`FINDINGS`, status in :data:`STATUSES`.
    """
    rank = {"present": 0, "uncertain": 1, "absent": 2, "not_mentioned": 3}
    status = dict.fromkeys(FINDINGS, "not_mentioned")
    for m in find_mentions(sentences):
        if rank[m.assertion] < rank[status[m.finding]]:
            status[m.finding] = m.assertion
    return status
