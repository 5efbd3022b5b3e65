"""Load the genomics artifacts of a workspace: per-kind ``patients x genes`` matrices and gene sets.

This is what encoders, the export and the trainer (for fold-fitted gene-level normalisation with
:mod:`~clinfusion.modalities.genomics.normalize`) read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from clinfusion.errors import FeaturizeError
from clinfusion.modalities.genomics.genesets import GeneSets
from clinfusion.modalities.genomics.read import GENE_SETS_ARTIFACT, KINDS
from clinfusion.workspace.catalog import read_catalog, row_meta
from clinfusion.workspace.workspace import Workspace


@dataclass
class GenomicsData:
    """The ingested genomics of a cohort.

    Attributes:
        matrices: kind (``expression``/``cnv``/``mutation``) -> ``patients x genes`` float32,
            index = pseudonyms.
        gene_sets: set name -> genes; ``source``: set name -> collection (file stem).
        scales: kind -> declared scale (``counts``, ``log``, ``as_is``).
    """

    matrices: dict[str, pd.DataFrame] = field(default_factory=dict)
    gene_sets: GeneSets = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    scales: dict[str, str] = field(default_factory=dict)


def load_item(ws_root: Path, row: pd.Series | dict) -> GenomicsData:
    """Artifacts of one ingested genomics catalog row."""
    base = Path(ws_root) / row["artifact_dir"]
    meta = row_meta(row)
    data = GenomicsData()
    for kind in KINDS:
        path = base / f"{kind}.parquet"
        if path.exists():
            data.matrices[kind] = pd.read_parquet(path)
            data.scales[kind] = meta.get("tables", {}).get(kind, {}).get("scale", "as_is")
    sets_path = base / GENE_SETS_ARTIFACT
    if sets_path.exists():
        payload = json.loads(sets_path.read_text())
        data.gene_sets, data.source = payload["sets"], payload["source"]
    return data


def load_genomics(ws: Workspace, rows: pd.DataFrame | None = None) -> GenomicsData:
    """Merge the artifacts of the ingested genomics rows (default: from the workspace catalog).

    Raises:
        FeaturizeError: nothing ingested.
    """
    if rows is None:
        cat = read_catalog(ws)
        rows = cat[(cat["modality"] == "genomics") & (cat["status"] == "ingested")]
    if len(rows) == 0:
        raise FeaturizeError("no ingested genomics in this workspace", file=ws.root)
    merged = GenomicsData()
    for _, row in rows.iterrows():
        part = load_item(ws.root, row)
        merged.matrices.update(part.matrices)
        merged.scales.update(part.scales)
        merged.gene_sets.update(part.gene_sets)
        merged.source.update(part.source)
    return merged
