"""Clinical export: the de-identified clinical table (pseudonymous ids, outcomes, covariates)."""

from __future__ import annotations

import pandas as pd

from clinfusion.modalities.clinical.read import read_clinical_artifact
from clinfusion.workspace.workspace import Workspace


def export_clinical(ws: Workspace, catalog: pd.DataFrame) -> pd.DataFrame:
    """The de-identified clinical table of the (single) ingested clinical item, followed by its
    encoded covariates (columns ``enc:<feature>``, the ``covariates`` encoder's unstandardised token)."""
    from clinfusion.modalities.clinical.features import (
        ClinicalTokenConfig,
        declared_covariates,
        table_encoding,
    )

    table = read_clinical_artifact(ws.root, catalog.iloc[0]["artifact_dir"])
    encoding, encoded = table_encoding(table, declared_covariates(catalog), ClinicalTokenConfig())
    if not encoding.columns:
        return table
    encoded = encoded.add_prefix("enc:").reset_index(drop=True)
    return pd.concat([table.reset_index(drop=True), encoded], axis=1)
