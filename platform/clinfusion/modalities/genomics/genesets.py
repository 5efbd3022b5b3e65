"""Gene sets (pathways, gene families) from GMT files and CSV tables.

Three formats are read, detected from the content:

- **GMT** (MSigDB): one set per line, ``name<TAB>description<TAB>gene1<TAB>gene2...``;
- **set table** (MCAT/SurvPath ``*_signatures.csv``): one column per set, cells = gene symbols,
  shorter columns padded with empty cells;
- **membership matrix** (SurvPath ``*_comps.csv``): one row per gene (first column = gene),
  one column per set, cells 0/1.

Genes are upper-cased so they match :func:`~clinfusion.modalities.genomics.table.normalize_gene_ids`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from clinfusion.errors import IngestError

GeneSets = dict[str, list[str]]
"""Set name -> unique gene labels in file order."""


def _unique(genes: Iterable[object]) -> list[str]:
    out = (str(g).strip().upper() for g in genes if isinstance(g, str) and str(g).strip())
    return list(dict.fromkeys(out))


def read_gmt(path: Path) -> GeneSets:
    """Read a GMT file.

    Raises:
        IngestError: a line with fewer than three fields, or no sets.
    """
    sets: GeneSets = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 3:
            raise IngestError(f"line {n} has {len(parts)} tab-separated field(s); expected name, description, genes...",
                              file=path.name)
        sets[parts[0].strip()] = _unique(parts[2:])
    if not sets:
        raise IngestError("no gene sets in GMT file", file=path.name)
    return sets


def _is_membership(df: pd.DataFrame) -> bool:
    values = df.iloc[:, 1:]
    if values.shape[1] == 0:
        return False
    numeric = values.apply(pd.to_numeric, errors="coerce")
    return bool(numeric.notna().all().all() and np.isin(numeric.to_numpy(), (0, 1)).all())


def read_gene_set_table(path: Path) -> GeneSets:
    """Read a CSV/TSV set table (columns = sets) or a gene x set 0/1 membership matrix.

    Raises:
        IngestError: unparsable, or no non-empty set.
    """
    sep = "\t" if path.suffix.lower() in (".tsv", ".txt") else ","
    try:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise IngestError(f"cannot parse gene-set table: {err}", file=path.name) from None
    if _is_membership(df):
        genes = df.iloc[:, 0]
        member = df.iloc[:, 1:].apply(pd.to_numeric).astype(int)
        sets = {str(c).strip(): _unique(genes[member[c] == 1]) for c in member.columns}
    else:
        sets = {str(c).strip(): _unique(df[c]) for c in df.columns}
    sets = {k: v for k, v in sets.items() if v}
    if not sets:
        raise IngestError("no non-empty gene set; expected columns = sets with gene symbols, or a 0/1 matrix",
                          file=path.name)
    return sets


def read_gene_sets(path: str | Path) -> GeneSets:
    """Read gene sets from a GMT, CSV or TSV file (format detected)."""
    path = Path(path)
    if path.suffix.lower() == ".gmt":
        return read_gmt(path)
    return read_gene_set_table(path)


def is_gene_set_path(rel: str) -> bool:
    """Whether a cohort file is a gene-set definition: a ``.gmt`` file or a file under a
    ``gene_sets``/``genesets`` folder."""
    parts = Path(rel).parts
    return rel.lower().endswith(".gmt") or any(p.lower() in ("gene_sets", "genesets") for p in parts[:-1])


def merge_gene_sets(collections: dict[str, GeneSets]) -> tuple[GeneSets, dict[str, str]]:
    """Merge named collections; a name clash with different genes is kept as ``<collection>:<name>``.

    Returns:
        The merged sets and, per set, the collection it came from.
    """
    merged: GeneSets = {}
    source: dict[str, str] = {}
    for coll, sets in collections.items():
        for name, genes in sets.items():
            key = name
            if key in merged and merged[key] != genes:
                key = f"{coll}:{name}"
            if key not in merged:
                merged[key] = genes
                source[key] = coll
    return merged, source


def coverage(sets: GeneSets, available: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Per set: (genes found among ``available``, set size)."""
    have = set(available)
    return {name: (sum(1 for g in genes if g in have), len(genes)) for name, genes in sets.items()}


def set_scores(frame: pd.DataFrame, sets: GeneSets, min_genes: int = 1) -> pd.DataFrame:
    """Mean of a ``patients x genes`` frame over each set's genes found in it.

    Use it on a frame normalised with :mod:`clinfusion.modalities.genomics.normalize` (fitted on
    the training fold) to get fold-correct pathway scores.

    Args:
        frame: patients x genes (columns upper-cased gene labels).
        sets: gene sets.
        min_genes: sets with fewer genes found are left out.

    Returns:
        patients x sets, float32 (same row index).
    """
    cols = {}
    for name, genes in sets.items():
        found = [g for g in genes if g in frame.columns]
        if len(found) >= min_genes:
            cols[name] = frame[found].mean(axis=1)
    return pd.DataFrame(cols, index=frame.index).astype("float32")
