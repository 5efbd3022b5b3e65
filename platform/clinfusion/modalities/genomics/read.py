"""Genomics reader: expression / copy-number / mutation tables plus gene-set files -> one cohort-level item.

All files of the modality form ONE item, so its content hash covers every table and gene-set
definition that a patient's tokens depend on (the token cache is invalidated when any changes).
A bad member file is rejected on its own (``IngestResult.rejected``); the item fails only when no
table is usable.

Artifacts (rows = patient pseudonyms, index name ``patient_id``, columns = gene labels)::

    expression.parquet   cnv.parquet   mutation.parquet   (those present)
    gene_sets.json       {"sets": {name: [genes]}, "source": {name: collection}}

Sample ids that are not in the clinical table are dropped and counted in the metadata (never listed:
they are identifiers).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from clinfusion.cohort.discovery import DiscoveredFile
from clinfusion.errors import IngestError
from clinfusion.modalities.base import IngestContext, IngestResult, Item, Reader
from clinfusion.modalities.genomics import table as tbl
from clinfusion.modalities.genomics.genesets import (
    GeneSets,
    coverage,
    is_gene_set_path,
    merge_gene_sets,
    read_gene_sets,
)

Kind = Literal["expression", "cnv", "mutation"]
KINDS: tuple[str, ...] = ("expression", "cnv", "mutation")
GENE_SETS_ARTIFACT = "gene_sets.json"
_KIND_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cnv", re.compile(r"cnv|cna|copy|gistic", re.I)),
    ("mutation", re.compile(r"mut|maf|snv|variant", re.I)),
    ("expression", re.compile(r"rna|expr|mrna|tpm|fpkm|count|gene_?exp", re.I)),
)


class GenomicsOptions(BaseModel):
    """``modalities.genomics.options`` in cohort.yaml.

    Attributes:
        orientation: ``auto`` (the axis holding clinical-table ids is the sample axis),
            ``genes_x_samples`` or ``samples_x_genes``.
        gene_ids: ``symbol`` (upper-cased) or ``ensembl`` (ENSG ids, version suffix removed).
        nan_policy: ``error``, or per-sample imputation ``zero`` / ``sample_median``, or ``drop_gene``.
        duplicates: duplicate genes/samples: ``error``, keep ``first``, or ``mean``.
        expression_scale: ``counts`` (non-negative; encoders apply log1p per sample), ``log``
            (already log-scale) or ``as_is`` (e.g. mixed TCGA scales: only z-score in the training fold).
        kinds: file glob (cohort-relative) -> ``expression`` | ``cnv`` | ``mutation``; files not
            matched get their kind from the file name (rna/expr/counts, cnv/copy/gistic, mut/maf).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    orientation: tbl.Orientation = "auto"
    gene_ids: tbl.GeneIds = "symbol"
    nan_policy: tbl.NanPolicy = "error"
    duplicates: tbl.DuplicatePolicy = "mean"
    expression_scale: Literal["counts", "log", "as_is"] = "counts"
    kinds: dict[str, Kind] = {}


def table_kind(rel: str, declared: Mapping[str, str]) -> str:
    """The kind of a table file: a declared glob wins, else the file name decides.

    Raises:
        IngestError: the name does not tell the kind.
    """
    for pattern, kind in declared.items():
        if fnmatch.fnmatch(rel, pattern):
            return kind
    name = Path(rel).name
    for kind, regex in _KIND_PATTERNS:
        if regex.search(name):
            return kind
    raise IngestError("cannot tell whether this is expression, cnv or mutation data from its name; rename it "
                      "(e.g. expression.tsv, cnv.tsv, mutations.tsv) or declare modalities.genomics.options.kinds",
                      file=rel, field="kinds")


def parse_table(path: Path, rel: str, kind: str, opts: GenomicsOptions, id_column: str,
                known: frozenset[str]) -> tuple[pd.DataFrame, tbl.TableReport]:
    """One file -> validated ``samples x genes`` float frame (raw sample ids) and its report."""
    report = tbl.TableReport()
    raw = tbl.read_raw(path, rel)
    wide = tbl.to_wide(raw, id_column=id_column, known=known, orientation=opts.orientation, report=report, rel=rel)
    wide.columns = tbl.normalize_gene_ids([str(c) for c in wide.columns], opts.gene_ids, rel)
    wide = tbl.coerce_numeric(wide, rel)
    wide = tbl.resolve_duplicates(wide, opts.duplicates, report, rel)
    wide = tbl.handle_nan(wide, opts.nan_policy, report, rel)
    tbl.check_scale(wide, kind, opts.expression_scale, rel)
    return wide, report


class GenomicsReader(Reader):
    """Reads every genomics file of the cohort as one cohort-level item (see module docstring)."""

    modality = "genomics"
    version = "1"
    Options = GenomicsOptions

    def group(self, files: list[DiscoveredFile]) -> list[list[DiscoveredFile]]:
        # One item: tables first (the primary file names the item), gene-set files after.
        return [sorted(files, key=lambda f: (is_gene_set_path(f.rel), f.rel))]

    def read(self, item: Item, ctx: IngestContext, out_dir: Path) -> IngestResult:
        if item.patient_id is not None:
            raise IngestError("per-patient genomics files are not supported; expected cohort-level tables "
                              "(pattern without {patient_id}, e.g. genomics/**/*)", file=item.primary.rel)
        opts: GenomicsOptions = ctx.options  # type: ignore[assignment]  # IngestContext.options is typed BaseModel; the runner validated it with this reader's Options
        rejected: dict[str, str] = {}
        tables: dict[str, pd.DataFrame] = {}
        meta_tables: dict[str, Any] = {}
        collections: dict[str, GeneSets] = {}
        for f in item.files:
            try:
                if is_gene_set_path(f.rel):
                    collections[Path(f.rel).stem] = read_gene_sets(f.path)
                    continue
                kind = table_kind(f.rel, opts.kinds)
                if kind in tables:
                    raise IngestError(f"a second {kind} table; expected one table per kind", file=f.rel, field="kinds")
                wide, report = parse_table(f.path, f.rel, kind, opts, ctx.spec.id_column, ctx.known_patients)
            except IngestError as err:
                rejected[f.rel] = err.message
                continue
            known = [s for s in wide.index if s in ctx.known_patients]
            if not known:
                rejected[f.rel] = "no sample is a patient of the clinical table"
                continue
            tables[kind] = wide.loc[known]
            meta_tables[kind] = {**report.as_dict(), "file": f.rel, "n_samples": len(known), "n_genes": wide.shape[1],
                                 "n_unknown_samples": int(wide.shape[0] - len(known)),
                                 "scale": opts.expression_scale if kind == "expression" else "as_is"}
        if not tables:
            reasons = "; ".join(f"{k}: {v}" for k, v in rejected.items()) or "no table files"
            raise IngestError(f"no usable genomics table ({reasons})", file=item.primary.rel)
        return self._write(tables, meta_tables, collections, rejected, ctx, out_dir)

    def _write(self, tables: dict[str, pd.DataFrame], meta_tables: dict[str, Any], collections: dict[str, GeneSets],
               rejected: dict[str, str], ctx: IngestContext, out_dir: Path) -> IngestResult:
        artifacts = []
        patients: set[str] = set()
        for kind, wide in tables.items():
            out = wide.astype("float32")
            patients |= set(out.index)
            out.index = pd.Index([ctx.pseudonym(s) for s in out.index], name="patient_id")
            out.to_parquet(out_dir / f"{kind}.parquet")
            artifacts.append(f"{kind}.parquet")
        sets, source = merge_gene_sets(collections)
        meta: dict[str, Any] = {"tables": meta_tables, "kinds": sorted(tables), "n_patients": len(patients),
                                "gene_ids": ctx.options.gene_ids}  # type: ignore[attr-defined]  # GenomicsOptions (see read)
        if sets:
            (out_dir / GENE_SETS_ARTIFACT).write_text(json.dumps({"sets": sets, "source": source}))
            artifacts.append(GENE_SETS_ARTIFACT)
            meta["gene_sets"] = {c: len(s) for c, s in collections.items()}
            meta["coverage"] = coverage_summary(tables, sets, source)
        return IngestResult(artifacts=artifacts, metadata=meta, rejected=rejected, patients=sorted(patients))


def coverage_summary(tables: dict[str, pd.DataFrame], sets: GeneSets, source: dict[str, str]) -> dict[str, Any]:
    """Per kind and collection: sets, genes in sets, genes found, sets with no gene found, and per set (found, size)."""
    out: dict[str, Any] = {}
    for kind, wide in tables.items():
        cov = coverage(sets, wide.columns)
        per_coll: dict[str, Any] = {}
        for coll in dict.fromkeys(source.values()):
            names = [n for n in sets if source[n] == coll]
            genes = {g for n in names for g in sets[n]}
            per_coll[coll] = {"sets": len(names), "genes": len(genes), "genes_found": len(genes & set(wide.columns)),
                              "empty_sets": sum(1 for n in names if cov[n][0] == 0)}
        out[kind] = {"collections": per_coll, "per_set": {n: list(v) for n, v in cov.items()}}
    return out
