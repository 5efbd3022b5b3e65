"""Replace merged PHI spans by typed tags or, for dates, by the patient's keyed shift.

Per-type policy (:class:`ReplacementPolicy`), one action per PHI type:

- ``tag``: the span becomes its tag (``[NAME]``, ``[ID]``, ``[MRN]``, ``[PHONE]``, ``[ADDRESS]``,
  ``[INSTITUTION]``, ``[EMAIL]``, ``[URL]``, ``[AGE>89]``, ``[DATE]``; tags are configurable, e.g.
  ``{"MRN": "[ID]"}`` to fold every identifier into one tag);
- ``shift`` (``DATE`` only, the default): the date is moved by the patient's keyed offset
  (``Pseudonymizer.date_shift_days``, the same offset as the DICOM and ECG dates of that patient)
  and written in its own format, so intervals between dates survive (:func:`.dates.shift_dates`).
  A date span that is not one complete calendar date (``March 7``, ``07/03``) becomes ``[DATE]``;
  a lone year is kept (Safe Harbor keeps years);
- ``keep``: the span is left as written (e.g. a research protocol that may keep institutions).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from clinfusion.errors import ConfigError
from clinfusion.privacy.phi.base import PHI_TYPES, PhiSpan
from clinfusion.privacy.phi.dates import DATE_RE, shift_dates

ACTIONS = ("tag", "shift", "keep")
DEFAULT_TAGS: dict[str, str] = {t: f"[{t}]" for t in PHI_TYPES} | {"AGE": "[AGE>89]"}
_LONE_YEAR = re.compile(r"(?:1[89]|20)\d{2}")


def _default_actions() -> dict[str, str]:
    return {t: ("shift" if t == "DATE" else "tag") for t in PHI_TYPES}


@dataclass(frozen=True, kw_only=True)
class ReplacementPolicy:
    """What each PHI type becomes.

    Args:
        actions: PHI type -> ``tag`` | ``shift`` | ``keep`` (types not given keep the default:
            ``shift`` for ``DATE``, ``tag`` for the rest).
        tags: PHI type -> tag text (types not given keep :data:`DEFAULT_TAGS`).

    Raises:
        ConfigError: an unknown type or action, or ``shift`` for a type other than ``DATE``.
    """

    actions: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind, action in self.actions.items():
            if kind not in PHI_TYPES:
                raise ConfigError(f"unknown PHI type {kind!r}: expected one of {list(PHI_TYPES)}", field="deid.policy")
            if action not in ACTIONS or (action == "shift" and kind != "DATE"):
                raise ConfigError(f"deid.policy.{kind} must be one of {['tag', 'keep'] + (['shift'] if kind == 'DATE' else [])},"
                                  f" got {action!r}", field=f"deid.policy.{kind}")
        for kind in self.tags:
            if kind not in PHI_TYPES:
                raise ConfigError(f"unknown PHI type {kind!r}: expected one of {list(PHI_TYPES)}", field="deid.tags")
        object.__setattr__(self, "actions", _default_actions() | dict(self.actions))
        object.__setattr__(self, "tags", DEFAULT_TAGS | dict(self.tags))


def _replacement(raw: str, kind: str, days: int, action: str, tag: str) -> str | None:
    """The new text of one span, or ``None`` when it is kept as written."""
    if action == "keep" or (kind == "DATE" and _LONE_YEAR.fullmatch(raw.strip())):
        return None
    if kind == "DATE" and action == "shift" and DATE_RE.fullmatch(raw):
        return shift_dates(raw, days).replace("[DATE]", tag)
    return tag


def replace_spans(text: str, spans: list[PhiSpan], date_shift_days: int,
                  policy: ReplacementPolicy | None = None) -> tuple[str, Counter[str]]:
    """Apply the policy to merged, non-overlapping spans.

    Args:
        text: the text the spans refer to.
        spans: output of :func:`.merge.merge_spans` (sorted, non-overlapping).
        date_shift_days: the patient's keyed date offset in days.
        policy: replacement per type (default :class:`ReplacementPolicy`).

    Returns:
        ``(new_text, counts)``: counts of replaced spans per type (never values).
    """
    policy = policy or ReplacementPolicy()
    parts: list[str] = []
    counts: Counter[str] = Counter()
    pos = 0
    for s in spans:  # one join, not one copy of the text per span
        raw = text[s.start:s.end]
        action, tag = policy.actions[s.type], policy.tags[s.type]
        new = _replacement(raw, s.type, date_shift_days, action, tag)
        parts += [text[pos:s.start], raw if new is None else new]
        pos = s.end
        if new is not None:
            counts[s.type] += 1
    parts.append(text[pos:])
    return "".join(parts), counts
