"""Ingest: discover items, read, validate, de-identify, normalise; quarantine what fails."""

from __future__ import annotations

from clinfusion.ingest.runner import IngestReport, ingest

__all__ = ["IngestReport", "ingest"]
