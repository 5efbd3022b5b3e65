"""Export a modality's interpretable per-item table (for use outside ClinFusion).

Dispatches to the modality's own export (``modalities/<name>/export.py``, named in the registry),
else :func:`generic_export` over the catalog metadata.
"""

from __future__ import annotations

import pandas as pd

from clinfusion.errors import ConfigError
from clinfusion.modalities.registry import export_function, plugin
from clinfusion.workspace.catalog import read_catalog, row_meta
from clinfusion.workspace.workspace import Workspace


def generic_export(ws: Workspace, catalog: pd.DataFrame) -> pd.DataFrame:
    """One row per ingested item: ids, source and the reader's flat metadata fields."""
    rows = []
    for _, r in catalog.iterrows():
        meta = {k: v for k, v in row_meta(r).items() if not isinstance(v, dict | list)}
        rows.append({"patient_id": r["patient_id"], "item_id": r["item_id"], "source": r["source"], **meta})
    return pd.DataFrame(rows)


def export_modality(ws: Workspace, modality: str) -> pd.DataFrame:
    """The export table of a modality (the modality's own export, else the generic one).

    Raises:
        ConfigError: unknown modality, or nothing of it was ingested.
    """
    plugin(modality)
    cat = read_catalog(ws)
    cat = cat[(cat["modality"] == modality) & (cat["status"] == "ingested")]
    if cat.empty:
        raise ConfigError(f"no ingested {modality} items in this workspace", file=ws.root, field="--modality")
    fn = export_function(modality) or generic_export
    return fn(ws, cat.reset_index(drop=True))
