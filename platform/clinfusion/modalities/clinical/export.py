"""Clinical export: the de-identified clinical table (pseudonymous ids, outcomes, covariates)."""

from __future__ import annotations

import pandas as pd

from clinfusion.modalities.clinical.read import read_clinical_artifact
from clinfusion.workspace.workspace import Workspace


def export_clinical(ws: Workspace, catalog: pd.DataFrame) -> pd.DataFrame:
    """The de-identified clinical table of the (single) ingested clinical item."""
    return read_clinical_artifact(ws.root, catalog.iloc[0]["artifact_dir"])
