"""The Genomics tab: a patient's mutated (driver) genes, copy number of key genes, gene-set scores
against the cohort, and the genes behind the gene sets the served model attributed most to.

- mutations: every gene with a non-zero value in the patient's row of the workspace's mutation
  matrix (``patients x genes``, :func:`clinfusion.modalities.genomics.artifacts.load_genomics`),
  annotated with the shipped driver list (``data/driver_genes.tsv``: a curated subset of COSMIC
  Cancer Gene Census Tier 1 / OncoKB cancer genes with their role; see the file's header);
- CNV: the patient's value of every driver-list gene in the CNV matrix, with its cohort z-score;
- gene-set scores as cohort z-scores (``(x - mean) / sd`` over the patients with a score) and
  percentiles (percent of patients at or below);
- for the gene sets with the largest absolute attribution of the served run's final model
  (``token_attributions.parquet``, integrated gradients per token; the ``name`` column is the gene
  set), the member genes whose expression z-score (over the cohort) is largest in the direction of
  the patient's set score: the genes that move that score.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

DRIVER_FILE = "driver_genes.tsv"
NOT_LISTED = "not in the driver list"


@cache
def driver_genes() -> pd.DataFrame:
    """The shipped driver list: columns ``gene``, ``role`` (``oncogene``, ``tumour suppressor`` or both)."""
    text = (resources.files("clinfusion.review") / "data" / DRIVER_FILE).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    if not rows or rows[0] != ["gene", "role"]:
        raise ValueError(f"{DRIVER_FILE}: expected a 'gene<TAB>role' header after the comments")
    return pd.DataFrame(rows[1:], columns=rows[0])


def mutated_genes(mutation: pd.DataFrame | None, pid: str) -> pd.DataFrame:
    """Genes mutated in ``pid`` (non-zero in its mutation-matrix row), driver genes first.

    Returns:
        Columns ``gene``, ``value`` (the matrix value: 1 = mutated, or a count), ``driver role``
        (:data:`NOT_LISTED` for a gene outside the driver list); empty when the patient has no row.
    """
    cols = ["gene", "value", "driver role"]
    if mutation is None or pid not in mutation.index:
        return pd.DataFrame(columns=cols)
    row = mutation.loc[pid].astype(float)
    hit = row[row.fillna(0) != 0]
    roles = driver_genes().set_index("gene")["role"]
    out = pd.DataFrame({"gene": hit.index.astype(str), "value": hit.to_numpy(),
                        "driver role": [roles.get(g, NOT_LISTED) for g in hit.index]})
    out["_listed"] = out["driver role"] != NOT_LISTED
    return out.sort_values(["_listed", "gene"], ascending=[False, True]).drop(columns="_listed").reset_index(drop=True)


def _z(frame: pd.DataFrame) -> pd.DataFrame:
    sd = frame.std(ddof=0).replace(0, np.nan)
    return (frame - frame.mean()) / sd


def key_gene_cnv(cnv: pd.DataFrame | None, pid: str) -> pd.DataFrame:
    """The patient's copy-number value of every driver-list gene in the CNV matrix.

    Returns:
        Columns ``gene``, ``value`` (as ingested), ``cohort z``, ``driver role``; largest ``|value|`` first.
    """
    cols = ["gene", "value", "cohort z", "driver role"]
    if cnv is None or pid not in cnv.index:
        return pd.DataFrame(columns=cols)
    roles = driver_genes().set_index("gene")["role"]
    genes = [g for g in cnv.columns if g in roles.index]
    if not genes:
        return pd.DataFrame(columns=cols)
    sub = cnv[genes].astype(float)
    z = _z(sub).loc[pid]
    out = pd.DataFrame({"gene": genes, "value": sub.loc[pid].to_numpy(), "cohort z": z.to_numpy(),
                        "driver role": [roles[g] for g in genes]})
    return out.reindex(out["value"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def gene_set_cohort_scores(scores: pd.DataFrame, pid: str) -> pd.DataFrame:
    """The patient's gene-set scores against the cohort.

    Args:
        scores: patients x score columns (index pseudonym), e.g.
            :func:`clinfusion.review.workspace_data.genomics_scores`.

    Returns:
        Columns ``score`` (column name), ``value``, ``cohort z``, ``percentile`` (0-100, percent of
        patients with a value at or below), ``n`` (patients with a value); largest ``|z|`` first.
    """
    cols = ["score", "value", "cohort z", "percentile", "n"]
    if scores.empty or pid not in scores.index:
        return pd.DataFrame(columns=cols)
    num = scores.apply(pd.to_numeric, errors="coerce")
    row = num.loc[pid]
    keep = row.dropna().index
    num = num[keep]
    z = _z(num).loc[pid]
    pct = [(num[c].dropna() <= row[c]).mean() * 100 for c in keep]
    out = pd.DataFrame({"score": list(keep), "value": row[keep].to_numpy(float), "cohort z": z.to_numpy(float),
                        "percentile": pct, "n": num.notna().sum().to_numpy()})
    return out.reindex(out["cohort z"].abs().sort_values(ascending=False, na_position="last").index).reset_index(drop=True)


def top_attributed_sets(attributions: pd.DataFrame | None, pid: str, k: int = 3) -> pd.DataFrame:
    """The ``k`` genomics tokens (gene sets) with the largest absolute attribution for ``pid``.

    Args:
        attributions: ``token_attributions.parquet`` (``patient_id``, ``modality``, ``name``, ``attribution``).

    Returns:
        Columns ``gene set``, ``attribution`` (integrated gradients on the risk; > 0 raises it).
    """
    cols = ["gene set", "attribution"]
    if attributions is None or attributions.empty:
        return pd.DataFrame(columns=cols)
    a = attributions[(attributions["patient_id"] == pid) & (attributions["modality"] == "genomics")]
    a = a.reindex(a["attribution"].abs().sort_values(ascending=False).index).head(k)
    return pd.DataFrame({"gene set": a["name"].astype(str).to_numpy(), "attribution": a["attribution"].to_numpy(float)})


def driving_genes(expression: pd.DataFrame | None, members: list[str], pid: str, n: int = 5) -> pd.DataFrame:
    """Member genes of one set that move the patient's set score most: expression z-score over the
    cohort, sorted in the direction of the mean member z (the sign of the set's deviation).

    Returns:
        Columns ``gene``, ``expression z``; empty without expression for the patient or members.
    """
    cols = ["gene", "expression z"]
    if expression is None or pid not in expression.index:
        return pd.DataFrame(columns=cols)
    genes = [g for g in members if g in expression.columns]
    if not genes:
        return pd.DataFrame(columns=cols)
    z = _z(expression[genes].astype(float)).loc[pid].dropna()
    sign = 1.0 if z.mean() >= 0 else -1.0
    z = z.reindex((z * sign).sort_values(ascending=False).index).head(n)
    return pd.DataFrame({"gene": z.index.astype(str), "expression z": z.to_numpy(float)})


def read_attributions(artifact_dir: Path, pid: str) -> pd.DataFrame | None:
    """The patient's genomics rows of ``token_attributions.parquet`` (None when the run logged none)."""
    path = Path(artifact_dir) / "token_attributions.parquet"
    if not path.exists():
        return None
    return pd.read_parquet(path, filters=[("patient_id", "==", pid), ("modality", "==", "genomics")])
