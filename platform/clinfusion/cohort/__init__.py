"""Cohort: cohort.yaml schema, clinical table, item discovery, patient-level splits, validation."""

from __future__ import annotations

from clinfusion.cohort.clinical_table import ClinicalTable, read_clinical_table
from clinfusion.cohort.discovery import DiscoveredFile, discover_files
from clinfusion.cohort.spec import CohortSpec, load_cohort_spec, parse_cohort_spec
from clinfusion.cohort.splits import Split, read_split_dir, read_split_file, stratified_kfold
from clinfusion.cohort.validate import ValidationReport, validate_cohort

__all__ = [
    "ClinicalTable",
    "CohortSpec",
    "DiscoveredFile",
    "Split",
    "ValidationReport",
    "discover_files",
    "load_cohort_spec",
    "parse_cohort_spec",
    "read_clinical_table",
    "read_split_dir",
    "read_split_file",
    "stratified_kfold",
    "validate_cohort",
]
