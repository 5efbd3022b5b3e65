"""Cohort: cohort.yaml schema, clinical table, item discovery, patient-level splits.

Validating a whole cohort directory (which also checks reader options) is
:func:`clinfusion.ingest.validate.validate_cohort`, one layer up.
"""

from __future__ import annotations

from clinfusion.cohort.clinical_table import ClinicalTable, read_clinical_table
from clinfusion.cohort.discovery import DiscoveredFile, discover_files
from clinfusion.cohort.spec import CohortSpec, load_cohort_spec, parse_cohort_spec
from clinfusion.cohort.splits import Split, read_split_dir, read_split_file, stratified_kfold

__all__ = [
    "ClinicalTable",
    "CohortSpec",
    "DiscoveredFile",
    "Split",
    "discover_files",
    "load_cohort_spec",
    "parse_cohort_spec",
    "read_clinical_table",
    "read_split_dir",
    "read_split_file",
    "stratified_kfold",
]
