"""PHI detection and replacement in free text behind one detector contract.

``base`` (span, detector protocol, registry), ``rules`` (the project's rules), ``presidio`` and
``philter`` (library detectors, loaded lazily), ``merge`` (span union), ``replace`` (per-type
policy, keyed date shift), ``pipeline`` (all of it for one text or one patient's texts).
"""

from __future__ import annotations

from clinfusion.privacy.phi.base import (
           DETECTORS,
           PHI_TYPES,
           PhiDetector,
           PhiSpan,
           detector_names,
           make_detector,
)
from clinfusion.privacy.phi.pipeline import DEFAULT_DETECTORS, PhiPipeline, ScrubResult, default_pipeline
from clinfusion.privacy.phi.replace import ReplacementPolicy

__all__ = ["DEFAULT_DETECTORS", "DETECTORS", "PHI_TYPES", "default_pipeline", "PhiDetector", "PhiPipeline", "PhiSpan", "ReplacementPolicy", "ScrubResult",
           "detector_names", "make_detector"]
