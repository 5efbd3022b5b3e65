"""Adapters from public dataset layouts to a ClinFusion cohort directory (``tcga.py``: PORPOISE/MCAT TCGA CSVs)."""
