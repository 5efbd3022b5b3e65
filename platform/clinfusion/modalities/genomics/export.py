"""Genomics export: gene-set scores per patient (the ``geneset`` encoder's interpretable features).

One row per patient (pseudonym); for every gene set and every kind the patient's data has, the
columns ``<set>:expr_mean``, ``<set>:cnv_burden``, ``<set>:mut_count`` (see
:mod:`clinfusion.modalities.genomics.features`). Per-sample transforms only: no cohort statistic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clinfusion.modalities.genomics.artifacts import load_genomics
from clinfusion.modalities.genomics.features import FEATURES, GeneSetEncoder
from clinfusion.workspace.workspace import Workspace

_EXPORTED = {"expression": "expr_mean", "cnv": "cnv_burden", "mutation": "mut_count"}


def gene_set_scores(ws: Workspace, catalog: pd.DataFrame, config: dict | None = None) -> pd.DataFrame:
    """Wide table of gene-set scores, one row per patient with genomic data.

    Args:
        ws: the workspace.
        catalog: ingested genomics rows.
        config: :class:`~clinfusion.modalities.genomics.features.GeneSetConfig` values.
    """
    enc = GeneSetEncoder(config)
    data = load_genomics(ws, catalog)
    enc.prepare(data)
    kinds = [k for k in _EXPORTED if k in data.matrices]
    cols = [FEATURES.index(_EXPORTED[k]) for k in kinds]
    patients = sorted({p for m in data.matrices.values() for p in m.index})
    rows = []
    for pid in patients:
        tok = enc.encode_one(pid)
        vals = tok.tokens[:, cols]
        row: dict[str, object] = {"patient_id": pid}
        for j, k in enumerate(kinds):
            has = pid in data.matrices[k].index
            row.update({f"{name}:{_EXPORTED[k]}": (float(v) if has else np.nan) for name, v in zip(tok.names or [], vals[:, j],
                                                                                                  strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def export_genomics(ws: Workspace, catalog: pd.DataFrame) -> pd.DataFrame:
    """Registry export: :func:`gene_set_scores` with the default encoder config."""
    return gene_set_scores(ws, catalog)
