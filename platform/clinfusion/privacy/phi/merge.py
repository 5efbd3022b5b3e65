"""Merge PHI spans from several detectors into one non-overlapping list.

Overlapping spans become their union (recall first: a character any detector calls PHI is
replaced). The union's type is the one of highest :data:`~.base.TYPE_PRIORITY` among the spans
of highest confidence, so an identifier found by the rules is not renamed ``NAME`` because a
library saw a capitalised token inside it. Two ``NAME`` spans separated only by spaces, a comma
or ``^`` (``Smith, John``; DICOM ``Smith^John``) become one, so a name is one ``[NAME]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from clinfusion.privacy.phi.base import TYPE_PRIORITY, PhiSpan

_NAME_GAP = re.compile(r"[ \t]*[,^]?[ \t]*")


def _winner(group: list[PhiSpan]) -> PhiSpan:
    return min(group, key=lambda s: (-round(s.confidence, 2), TYPE_PRIORITY[s.type], s.start))


def merge_spans(spans: Iterable[PhiSpan], text: str | None = None) -> list[PhiSpan]:
    """Non-overlapping spans sorted by start.

    Args:
        spans: spans of any detectors, any order.
        text: the text they refer to; when given, adjacent ``NAME`` spans are joined (see module doc).

    Returns:
        The merged spans; ``source`` lists the contributing detectors (``"presidio+rules"``).
    """
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    groups: list[list[PhiSpan]] = []
    end = -1
    for s in ordered:
        if groups and s.start < end:
            groups[-1].append(s)
            end = max(end, s.end)
        else:
            groups.append([s])
            end = s.end
    merged = [_union(g) for g in groups]
    return _join_names(merged, text) if text is not None else merged


def _union(group: list[PhiSpan]) -> PhiSpan:
    win = _winner(group)
    sources = "+".join(sorted({s.source for s in group if s.source}))
    return PhiSpan(min(s.start for s in group), max(s.end for s in group), win.type, win.confidence, sources)


def _join_names(spans: list[PhiSpan], text: str) -> list[PhiSpan]:
    out: list[PhiSpan] = []
    for s in spans:
        prev = out[-1] if out else None
        if (prev is not None and prev.type == s.type == "NAME"
                and _NAME_GAP.fullmatch(text, prev.end, s.start) is not None):
            out[-1] = PhiSpan(prev.start, s.end, "NAME", max(prev.confidence, s.confidence),
                              "+".join(sorted(set(prev.source.split("+")) | set(s.source.split("+")) - {""})))
        else:
            out.append(s)
    return out
