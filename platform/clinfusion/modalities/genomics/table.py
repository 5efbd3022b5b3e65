"""Genomic tables -> one numeric ``samples x genes`` frame (pure functions, testable without a cohort).

Handles the layouts found in practice:

- wide, genes x samples (the usual expression matrix: genes in rows, one column per sample);
- wide, samples x genes (one row per sample: TCGA/PORPOISE CSVs, cBioPortal exports);
- long mutation lists (MAF-like: one row per (sample, gene) event), pivoted to event counts.

Orientation is detected by which axis carries ids of the clinical table, or declared. Raw sample
ids never appear in an error message (they are identifiers): messages count them instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from clinfusion.errors import IngestError

Orientation = Literal["auto", "genes_x_samples", "samples_x_genes"]
GeneIds = Literal["symbol", "ensembl"]
NanPolicy = Literal["error", "zero", "sample_median", "drop_gene"]
DuplicatePolicy = Literal["error", "first", "mean"]

LONG_GENE_COLUMNS = ("hugo_symbol", "gene", "gene_symbol", "symbol")
"""Column names (case-insensitive) that mark a long (MAF-like) table's gene column."""
LONG_SAMPLE_COLUMNS = ("tumor_sample_barcode", "sample", "sample_id", "case_id")
_ENSEMBL = re.compile(r"^(ENS[A-Z]*G\d+)(\.\d+)?$")
_MAX_LISTED = 20


@dataclass
class TableReport:
    """What happened while turning a file into a matrix (de-identified: counts and gene names only)."""

    layout: str = ""
    n_rows_raw: int = 0
    n_cols_raw: int = 0
    duplicate_genes: list[str] = field(default_factory=list)
    n_duplicate_samples: int = 0
    n_nan: int = 0
    n_imputed: int = 0
    dropped_genes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "raw_shape": [self.n_rows_raw, self.n_cols_raw],
            "duplicate_genes": self.duplicate_genes[:_MAX_LISTED],
            "n_duplicate_genes": len(self.duplicate_genes),
            "n_duplicate_samples": self.n_duplicate_samples,
            "n_nan": self.n_nan,
            "n_imputed": self.n_imputed,
            "dropped_genes": self.dropped_genes[:_MAX_LISTED],
            "n_dropped_genes": len(self.dropped_genes),
        }


def read_raw(path: Path, rel: str) -> pd.DataFrame:
    """Read a TSV/CSV/TXT (optionally ``.gz``) or Parquet file with every cell as it is stored.

    Raises:
        IngestError: unknown extension or unparsable file.
    """
    name = path.name.lower().removesuffix(".gz")
    try:
        if name.endswith(".parquet"):
            df = pd.read_parquet(path)
            if not isinstance(df.index, pd.RangeIndex):
                df = df.reset_index()
            return df
        if name.endswith((".tsv", ".txt", ".maf")):
            return pd.read_csv(path, sep="\t", comment=None, low_memory=False)
        if name.endswith(".csv"):
            return pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as err:
        raise IngestError(f"cannot parse table: {err}", file=rel) from None
    raise IngestError("unknown genomics file type; expected .tsv, .txt, .csv (optionally .gz) or .parquet", file=rel)


def _long_columns(df: pd.DataFrame, id_column: str) -> tuple[str, str] | None:
    lower = {str(c).lower(): c for c in df.columns}
    gene = next((lower[c] for c in LONG_GENE_COLUMNS if c in lower), None)
    sample = lower.get(id_column.lower()) or next((lower[c] for c in LONG_SAMPLE_COLUMNS if c in lower), None)
    return (gene, sample) if gene is not None and sample is not None else None


def pivot_long(df: pd.DataFrame, gene_col: str, sample_col: str) -> pd.DataFrame:
    """Long (sample, gene) event rows -> ``samples x genes`` event counts."""
    pairs = df[[sample_col, gene_col]].dropna().astype(str)
    counts = pairs.groupby([sample_col, gene_col]).size().unstack(fill_value=0)
    counts.index.name, counts.columns.name = None, None
    return counts.astype("float64")


def to_wide(
    df: pd.DataFrame, *, id_column: str, known: frozenset[str], orientation: Orientation, report: TableReport, rel: str
) -> pd.DataFrame:
    """Any supported layout -> ``samples x genes`` with string labels on both axes.

    Args:
        df: the table as read by :func:`read_raw`.
        id_column: the cohort's patient id column (names the sample column of samples x genes
            and long tables).
        known: raw patient ids of the clinical table (used to detect orientation).
        orientation: declared orientation, or ``"auto"``.
        report: filled with the layout found.
        rel: cohort-relative path for messages.

    Raises:
        IngestError: no axis carries patient ids of the clinical table (in auto mode).
    """
    report.n_rows_raw, report.n_cols_raw = df.shape
    long = _long_columns(df, id_column)
    if long is not None and orientation == "auto":
        report.layout = "long"
        return pivot_long(df, *long)
    wide = df.set_index(id_column if id_column in df.columns else df.columns[0])
    wide.index = wide.index.map(lambda v: str(v).strip())
    wide.columns = [str(c).strip() for c in wide.columns]
    if orientation == "auto":
        rows_hit = sum(1 for i in wide.index if i in known)
        cols_hit = sum(1 for c in wide.columns if c in known)
        if rows_hit == 0 and cols_hit == 0:
            raise IngestError(
                f"no row label or column header is a patient id of the clinical table ({len(known)} known); "
                "expected genes x samples or samples x genes with patient ids, or declare "
                "modalities.genomics.options.orientation",
                file=rel,
            )
        orientation = "genes_x_samples" if cols_hit > rows_hit else "samples_x_genes"
    report.layout = orientation
    return wide.T if orientation == "genes_x_samples" else wide


def normalize_gene_ids(columns: list[str], gene_ids: GeneIds, rel: str) -> list[str]:
    """Canonical gene labels: upper-case symbols, or Ensembl gene ids without version suffix.

    Raises:
        IngestError: ``ensembl`` declared but a label is not an Ensembl gene id.
    """
    if gene_ids == "symbol":
        return [c.strip().upper() for c in columns]
    out = []
    for c in columns:
        m = _ENSEMBL.match(c.strip())
        if m is None:
            raise IngestError(f"gene id {c!r} is not an Ensembl gene id (ENSG...); declared gene_ids: ensembl",
                              file=rel, field="gene_ids")
        out.append(m.group(1))
    return out


def coerce_numeric(wide: pd.DataFrame, rel: str) -> pd.DataFrame:
    """Every cell as float64; empty cells become NaN.

    Raises:
        IngestError: a non-empty, non-numeric cell (names the gene and the count of bad cells).
    """
    pos = [i for i, dt in enumerate(wide.dtypes) if not pd.api.types.is_numeric_dtype(dt)]
    if not pos:  # already numeric (the common case): no per-cell parsing
        return wide.astype("float64")
    out = wide.copy()
    text = wide.iloc[:, pos]
    parsed = text.apply(pd.to_numeric, errors="coerce")
    blank = text.astype(str).apply(lambda s: s.str.strip()).to_numpy() == ""
    bad = parsed.isna().to_numpy() & text.notna().to_numpy() & ~blank
    for j, i in enumerate(pos):  # positional: labels may still be duplicated here
        out.isetitem(i, parsed.iloc[:, j])
    out = out.astype("float64")
    if bad.any():
        col = int(bad.any(axis=0).argmax())
        gene = text.columns[col]
        example = str(text.iloc[int(bad[:, col].argmax()), col])[:20]
        raise IngestError(f"{int(bad.sum())} non-numeric cell(s), e.g. {example!r} for gene {gene!r}; "
                          "expected numbers", file=rel, field=str(gene))
    return out


def resolve_duplicates(wide: pd.DataFrame, policy: DuplicatePolicy, report: TableReport, rel: str) -> pd.DataFrame:
    """Merge duplicate samples and genes by ``policy`` (``error``, ``first`` or ``mean``); record them."""
    dup_s = wide.index.duplicated(keep="first")
    dup_g = wide.columns.duplicated(keep="first")
    report.n_duplicate_samples = int(dup_s.sum())
    report.duplicate_genes = sorted(set(wide.columns[dup_g]))
    if not dup_s.any() and not dup_g.any():
        return wide
    if policy == "error":
        raise IngestError(f"{report.n_duplicate_samples} duplicate sample(s) and {len(report.duplicate_genes)} duplicate "
                          f"gene(s) (e.g. {report.duplicate_genes[:3]}); expected unique labels, or declare "
                          "modalities.genomics.options.duplicates: first | mean", file=rel, field="duplicates")
    if policy == "first":
        return wide.loc[~dup_s, ~dup_g]
    wide = wide.groupby(level=0, sort=False).mean()
    return wide.T.groupby(level=0, sort=False).mean().T


def handle_nan(wide: pd.DataFrame, policy: NanPolicy, report: TableReport, rel: str) -> pd.DataFrame:
    """Apply the declared missing-value policy.

    Only per-sample rules are offered: a gene-wise (across-patient) imputation at ingest would
    mix validation patients into a statistic used for training patients.

    Raises:
        IngestError: NaNs present and ``policy == "error"``, or nothing left after dropping.
    """
    nan = wide.isna()
    report.n_nan = int(nan.to_numpy().sum())
    if report.n_nan == 0:
        return wide
    if policy == "error":
        gene = nan.any(axis=0).idxmax()
        raise IngestError(f"{report.n_nan} missing value(s), e.g. gene {gene!r}; expected complete data, or declare "
                          "modalities.genomics.options.nan_policy: zero | sample_median | drop_gene", file=rel, field=str(gene))
    if policy == "drop_gene":
        report.dropped_genes = [str(g) for g in wide.columns[nan.any(axis=0)]]
        wide = wide.loc[:, ~nan.any(axis=0)]
        if wide.shape[1] == 0:
            raise IngestError("every gene has a missing value; nothing left after nan_policy drop_gene", file=rel)
        return wide
    fill = 0.0 if policy == "zero" else wide.median(axis=1, skipna=True).fillna(0.0)
    report.n_imputed = report.n_nan
    return wide.fillna(fill, axis=0) if policy == "zero" else wide.T.fillna(fill).T


def check_scale(wide: pd.DataFrame, kind: str, scale: str, rel: str) -> None:
    """Check values against the declared kind/scale.

    Raises:
        IngestError: negative counts, or mutation values that are not non-negative.
    """
    values = wide.to_numpy()
    if kind == "expression" and scale == "counts" and (values < 0).any():
        raise IngestError("negative values in an expression table declared as counts; expected counts >= 0, or "
                          "declare modalities.genomics.options.expression_scale: log | as_is", file=rel, field="expression_scale")
    if kind == "mutation" and (values < 0).any():
        raise IngestError("negative values in a mutation table; expected 0/1 indicators or event counts",
                          file=rel, field="values")
    if not np.isfinite(values).all():
        raise IngestError("infinite values; expected finite numbers", file=rel)
