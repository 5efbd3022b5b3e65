"""Tabular encoding: one fold-fitted, JSON-serialisable transformer for every table of features.

Clinical covariates (wide path, clinical token, flat baselines, stack) and pooled token features
all go through :class:`TabularEncoder`. This package imports nothing from ``cohort``,
``modalities`` or ``training``: callers pass column types (:class:`ColumnType`) explicitly.
"""

from __future__ import annotations

from clinfusion.tabular.columns import KINDS, ColumnType, infer_type
from clinfusion.tabular.encoder import ENCODER_VERSION, TabularEncoder
from clinfusion.tabular.labels import normalize_label, ordinal_rank

__all__ = ["ENCODER_VERSION", "KINDS", "ColumnType", "TabularEncoder", "infer_type", "normalize_label", "ordinal_rank"]
