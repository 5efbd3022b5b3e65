"""Workspace: catalog, normalised artifacts, quarantine report, lineage, atomic writes."""

from __future__ import annotations

from clinfusion.workspace.catalog import (
    CATALOG_COLUMNS,
    quarantine_table,
    read_catalog,
    row_meta,
    row_patients,
    summarize,
)
from clinfusion.workspace.workspace import Workspace

__all__ = [
    "CATALOG_COLUMNS",
    "Workspace",
    "quarantine_table",
    "read_catalog",
    "row_meta",
    "row_patients",
    "summarize",
]
