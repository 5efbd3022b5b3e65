"""Genomics encoders: one token per gene set (pathway / gene family).

The default ``geneset`` encoder is offline and per patient (no cohort statistics, so the cache is
valid for every fold). For each gene set ``s`` and patient ``p`` it gives ``D = 7`` features:

=================  =========================================================================
``expr_mean``      mean over the set's genes found of the patient's expression (``log1p``
                   first when the table is declared as counts; a per-sample transform)
``expr_coverage``  fraction of the set's genes found in the expression table (0 = no data)
``cnv_mean``       mean copy-number value (GISTIC -2..2) over the genes found
``cnv_burden``     mean ``|cnv|`` over the genes found (fraction of altered copy number)
``cnv_coverage``   fraction of the set's genes found in the CNV table
``mut_count``      number of the set's genes with >= 1 mutation
``mut_coverage``   fraction of the set's genes found in the mutation table
=================  =========================================================================

A kind that the patient lacks gives value 0 AND coverage 0, so the model can tell "no data" from
"zero". Feature-space normalisation (z-score, variance filter) is NOT done here: fit it on the
training fold with :mod:`clinfusion.modalities.genomics.normalize`.

Shapes:
    tokens: ``[S, 7]`` (S gene sets); names: set names; groups: ``[S]`` collection index
    (order of ``meta["collections"]``); meta: ``coverage`` ``{set: {kind: [found, size]}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from clinfusion.errors import FeaturizeError
from clinfusion.featurize.base import Encoder
from clinfusion.featurize.tokens import TokenSet
from clinfusion.modalities.genomics.artifacts import GenomicsData, load_genomics
from clinfusion.modalities.genomics.genesets import merge_gene_sets, read_gene_sets
from clinfusion.workspace.hashing import sha256_file, sha256_text
from clinfusion.workspace.workspace import Workspace

FEATURES: tuple[str, ...] = ("expr_mean", "expr_coverage", "cnv_mean", "cnv_burden", "cnv_coverage",
                             "mut_count", "mut_coverage")


class GeneSetConfig(BaseModel):
    """Settings of :class:`GeneSetEncoder`.

    Attributes:
        gene_sets: extra gene-set files (GMT/CSV, absolute paths) added to the cohort's
            ``genomics/gene_sets/`` files; their content is part of the cache key.
        collections: keep only these collections (file stems, e.g. ``hallmarks_signatures``);
            empty = all.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    gene_sets: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()


class GeneSetEncoder(Encoder):
    """One token per gene set: aggregated expression, CNV burden and mutation count (module docstring)."""

    modality = "genomics"
    name = "geneset"
    version = "1"
    Config: ClassVar[type[BaseModel]] = GeneSetConfig
    config: GeneSetConfig  # validated by Encoder.__init__ with Config

    def config_hash(self) -> str:
        files = "|".join(sha256_file(Path(p)) for p in self.config.gene_sets)
        return sha256_text(super().config_hash() + "|" + files)

    def setup(self, ws: Workspace, rows: pd.DataFrame) -> None:
        self.prepare(load_genomics(ws, rows if len(rows) else None))

    def prepare(self, data: GenomicsData) -> None:
        """Precompute, per kind, the column indices of each set's genes (used by :meth:`encode_one`).

        Raises:
            FeaturizeError: no gene sets (neither in the cohort nor in the config).
        """
        cfg = self.config
        collections = {Path(p).stem: read_gene_sets(p) for p in cfg.gene_sets}
        sets, source = merge_gene_sets({"_cohort": data.gene_sets, **collections})
        source = {n: (data.source.get(n, c) if c == "_cohort" else c) for n, c in source.items()}
        if cfg.collections:
            sets = {n: g for n, g in sets.items() if source[n] in cfg.collections}
        if not sets:
            raise FeaturizeError("no gene sets: put GMT/CSV files under genomics/gene_sets/ in the cohort, or set the "
                                 "geneset encoder config gene_sets", field="gene_sets")
        self.data, self.sets, self.source = data, sets, source
        self.collections = list(dict.fromkeys(source[n] for n in sets))
        self.index: dict[str, list[np.ndarray]] = {}
        for kind, mat in data.matrices.items():
            pos = {g: i for i, g in enumerate(mat.columns)}
            self.index[kind] = [np.array([pos[g] for g in genes if g in pos], dtype=np.int64) for genes in sets.values()]

    def cohort_digests(self, ws: Workspace, per_patient: Mapping[str, pd.DataFrame]) -> dict[str, str]:
        """Digests of each patient's tokens (:meth:`Encoder.output_digests`): a patient added to or
        edited in the cohort-level table re-encodes that patient only."""
        return self.output_digests(ws, per_patient)

    def encode(self, patient_id: str, rows: pd.DataFrame, ws: Workspace) -> TokenSet:
        if not hasattr(self, "data"):
            self.setup(ws, rows)
        return self.encode_one(patient_id)

    def encode_one(self, patient_id: str) -> TokenSet:
        """Tokens of one patient from the prepared data (see module docstring for features).

        Raises:
            FeaturizeError: the patient has no genomic table.
        """
        sizes = np.array([max(len(g), 1) for g in self.sets.values()], dtype=np.float64)
        tok = np.zeros((len(self.sets), len(FEATURES)), dtype=np.float64)
        cov: dict[str, dict[str, list[int]]] = {n: {} for n in self.sets}
        found_any = False
        for kind, mat in self.data.matrices.items():
            if patient_id not in mat.index:
                continue
            found_any = True
            row = mat.loc[patient_id].to_numpy(dtype=np.float64)
            if kind == "expression" and self.data.scales.get(kind) == "counts":
                row = np.log1p(row)
            for s, (name, idx) in enumerate(zip(self.sets, self.index[kind], strict=True)):
                cov[name][kind] = [len(idx), len(self.sets[name])]
                if len(idx):
                    self._fill(tok[s], kind, row[idx], len(idx) / sizes[s])
        if not found_any:
            raise FeaturizeError(f"patient {patient_id} has no genomic table", field="patient_id")
        groups = np.array([self.collections.index(self.source[n]) for n in self.sets])
        return TokenSet(tok, names=list(self.sets), feature_names=list(FEATURES), groups=groups,
                        meta={"coverage": cov, "collections": self.collections})

    @staticmethod
    def _fill(out: np.ndarray, kind: str, vals: np.ndarray, frac: float) -> None:
        if kind == "expression":
            out[0], out[1] = vals.mean(), frac
        elif kind == "cnv":
            out[2], out[3], out[4] = vals.mean(), np.abs(vals).mean(), frac
        else:
            out[5], out[6] = float((vals > 0).sum()), frac


ENCODERS: dict[str, type[Encoder]] = {"geneset": GeneSetEncoder}
DEFAULT_ENCODER = "geneset"
