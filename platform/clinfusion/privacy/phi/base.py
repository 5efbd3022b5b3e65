"""The PHI detector contract: text in, typed character spans with a confidence out, plus a registry.

A detector never changes text; it only says where PHI is (:class:`PhiSpan`). Spans from several
detectors are merged by :mod:`.merge` and replaced by :mod:`.replace`, so a new detector (a
library, a model) is one small class registered here, and every registered detector is run by
the same contract tests (``tests/privacy/phi``). Offsets are Python string indices into the text
the detector was given (the pipeline gives every detector the same NFC-normalised text).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from clinfusion.errors import ConfigError

PHI_TYPES: tuple[str, ...] = ("NAME", "DATE", "AGE", "ID", "MRN", "PHONE", "EMAIL", "URL", "ADDRESS", "INSTITUTION")
"""Every span type. ``AGE`` is an age over 89 (HIPAA Safe Harbor keeps younger ages)."""

TYPE_PRIORITY: dict[str, int] = {t: i for i, t in enumerate(
    ("EMAIL", "URL", "MRN", "ID", "PHONE", "ADDRESS", "INSTITUTION", "NAME", "AGE", "DATE"))}
"""When overlapping spans of different types merge, the type with the lower number wins: the
order in which the rules have always applied their patterns (identifiers before names)."""


@dataclass(frozen=True, order=True)
class PhiSpan:
    """One piece of PHI found in a text.

    Attributes:
        start: first character (inclusive).
        end: last character (exclusive); ``end > start``.
        type: one of :data:`PHI_TYPES`.
        confidence: the detector's confidence in ``[0, 1]``.
        source: name of the detector that found it.
    """

    start: int
    end: int
    type: str
    confidence: float = 1.0
    source: str = ""

    def __post_init__(self) -> None:
        if self.end <= self.start or self.start < 0:
            raise ValueError(f"PhiSpan: expected 0 <= start < end, got ({self.start}, {self.end})")
        if self.type not in PHI_TYPES:
            raise ValueError(f"PhiSpan.type must be one of {list(PHI_TYPES)}, got {self.type!r}")


@runtime_checkable
class PhiDetector(Protocol):
    """Finds PHI spans in text.

    Attributes:
        name: registry name (``rules``, ``presidio``, ``philter``).
    """

    name: str

    def detect(self, text: str) -> list[PhiSpan]:
        """Spans of PHI in ``text`` (any order, may overlap)."""
        ...


DETECTORS: dict[str, Callable[[], PhiDetector]] = {}
"""Registry: name -> factory with no arguments (heavy libraries load lazily inside)."""


def register(name: str) -> Callable[[Callable[[], PhiDetector]], Callable[[], PhiDetector]]:
    """Class or factory decorator that adds a detector to :data:`DETECTORS`."""

    def deco(factory: Callable[[], PhiDetector]) -> Callable[[], PhiDetector]:
        DETECTORS[name] = factory
        return factory

    return deco


def _load_builtin() -> None:
    # importing the modules registers their detectors; the libraries themselves load on first detect()
    from clinfusion.privacy.phi import philter, presidio, rules  # noqa: F401


def detector_names() -> list[str]:
    """Names of every registered detector."""
    _load_builtin()
    return sorted(DETECTORS)


def make_detector(name: str) -> PhiDetector:
    """A new detector by registry name.

    Raises:
        ConfigError: unknown name (the message lists the valid ones).
    """
    _load_builtin()
    if name not in DETECTORS:
        raise ConfigError(f"unknown PHI detector {name!r}: expected one of {sorted(DETECTORS)}", field="deid.detectors")
    return DETECTORS[name]()
