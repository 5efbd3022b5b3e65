"""Clinical covariates -> column types of the shared :class:`~clinfusion.tabular.TabularEncoder`.

This module holds only what is clinical: which columns are outcomes (never features), how the
``cohort.yaml`` declarations (``clinical.covariates``: numeric / categorical / ordinal with levels)
become :class:`~clinfusion.tabular.ColumnType` s, and where a workspace recorded them. All the
encoding itself (impute, scale, one-hot with "other", ordinal ranks, missing flags, JSON params)
is :mod:`clinfusion.tabular.encoder`, shared with the wide path, the flat baselines and the stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from clinfusion.cohort.spec import CovariateSpec
from clinfusion.errors import ConfigError
from clinfusion.tabular import ColumnType, TabularEncoder, infer_type
from clinfusion.workspace.catalog import row_meta

OUTCOME_COLUMNS = ("patient_id", "survival_time", "event", "diagnosis")
"""Columns of the de-identified clinical table that are never features (id and labels)."""


def declared_covariates(rows: pd.DataFrame) -> dict[str, CovariateSpec]:
    """Covariate declarations the clinical reader recorded in the catalog metadata of ``rows``."""
    for _, row in rows.iterrows():
        covs = row_meta(row).get("covariates")
        if covs:
            return {k: CovariateSpec.model_validate(v) for k, v in covs.items()}
    return {}


def declared_types(declared: Mapping[str, Any]) -> dict[str, ColumnType]:
    """``cohort.yaml`` declarations (``CovariateSpec`` or ``{"type", "levels"}``) as column types.

    Raises:
        ConfigError: an outcome/id column declared as a covariate.
    """
    for name in declared:
        if name in OUTCOME_COLUMNS:
            raise ConfigError(f"{name!r} is an outcome/id column and cannot be a covariate",
                              field=f"clinical.covariates.{name}")
    return {name: ColumnType.from_spec(spec) for name, spec in declared.items()}


def covariate_types(table: pd.DataFrame, declared: Mapping[str, Any], columns: Iterable[str] = ()) -> dict[str, ColumnType]:
    """Types of the covariates of a clinical table: the declared ones, else every non-outcome
    column inferred (numbers -> numeric, text -> categorical); ``columns`` keeps only those.

    Raises:
        ConfigError: a declared covariate is an outcome column or not a column of the table.
    """
    types = declared_types(declared)
    for name in types:
        if name not in table.columns:
            raise ConfigError(f"covariate {name!r} is not a column of the clinical table; columns are "
                              f"{[str(c) for c in table.columns]}", field=f"clinical.covariates.{name}")
    if not types:
        types = {str(c): infer_type(table[c]) for c in table.columns if c not in OUTCOME_COLUMNS}
    keep = set(columns)
    return {c: t for c, t in types.items() if not keep or c in keep}


def token_encoding(table: pd.DataFrame, types: Mapping[str, ColumnType], max_categories: int = 50
                   ) -> tuple[TabularEncoder, pd.DataFrame]:
    """The stateless (no statistics) encoding of a clinical table and its encoded rows.

    Returns:
        ``(encoder, patients x encoder.feature_names float32 indexed by patient_id)``.
    """
    frame = table.set_index(table["patient_id"].astype(str).rename("patient_id"))[list(types)]
    enc = TabularEncoder.fit(frame, types, statistics=False, max_categories=max_categories)
    return enc, enc.transform_frame(frame)


def workspace_covariate_types(ws: Any) -> dict[str, ColumnType]:
    """Declared covariate types of a workspace's ingested clinical item (empty when none)."""
    from clinfusion.workspace import read_catalog

    cat = read_catalog(ws)
    rows = cat[(cat["modality"] == "clinical") & (cat["status"] == "ingested")]
    return declared_types(declared_covariates(rows))
