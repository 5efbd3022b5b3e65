"""Errors raised by models and losses."""

from __future__ import annotations

from clinfusion.errors import ClinFusionError


class ModelError(ClinFusionError):
    """A model or loss got inputs it cannot use (e.g. a Cox batch without events)."""
