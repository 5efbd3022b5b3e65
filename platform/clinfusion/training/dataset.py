"""Assemble a cohort for training from a workspace: tokens per modality + clinical outcomes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.errors import ConfigError, FeaturizeError, WorkspaceError
from clinfusion.featurize.tokens import TokenSet
from clinfusion.graph.cache import EdgeCache

OUTCOME_COLUMNS = ("patient_id", "survival_time", "event", "diagnosis")


@dataclass
class CohortData:
    """What training reads: one row per patient with an outcome, and their tokens.

    Attributes:
        patient_ids: pseudonyms with a survival outcome (row order of everything below).
        time: survival time in days; event: 1 event, 0 censored.
        diagnosis: class index (``-1`` unknown); classes: class names.
        covariates: raw clinical covariates (one row per patient).
        tokens: ``{modality: {pseudonym: TokenSet}}``; a missing modality is absent.
        edge_cache: graph edge cache (:class:`~clinfusion.graph.cache.EdgeCache`; the workspace's
            ``graphs/edges`` when loaded from a workspace, else in memory).
        encoders: ``{modality: EncoderChoice}``: which token cache each modality came from (from a
            workspace; empty when built from frames).
        covariate_types: ``{column: clinfusion.tabular.ColumnType}`` declared in ``cohort.yaml``
            (from a workspace; empty: every covariate's type is inferred by the encoder).
    """

    patient_ids: list[str]
    time: np.ndarray
    event: np.ndarray
    diagnosis: np.ndarray
    classes: list[str]
    covariates: pd.DataFrame
    tokens: dict[str, dict[str, TokenSet]]
    edge_cache: Any = None
    encoders: dict[str, Any] = field(default_factory=dict)
    covariate_types: dict[str, Any] = field(default_factory=dict)

    @property
    def modalities(self) -> list[str]:
        return list(self.tokens)

    def dims(self) -> dict[str, int]:
        """Token dimension per modality (checked to be constant)."""
        out = {}
        for m, per in self.tokens.items():
            dims = {ts.dim for ts in per.values()}
            if len(dims) != 1:
                raise FeaturizeError(f"{m} tokens have different dimensions {sorted(dims)}", field=m)
            out[m] = dims.pop()
        return out

    def index(self, ids: Sequence[str]) -> np.ndarray:
        pos = {p: i for i, p in enumerate(self.patient_ids)}
        return np.array([pos[p] for p in ids], dtype=np.int64)


def cohort_from_frames(clinical: pd.DataFrame, tokens: Mapping[str, Mapping[str, TokenSet]],
                       covariates: Sequence[str] | None = None) -> CohortData:
    """Build :class:`CohortData` from a clinical table (pseudonyms) and token dicts.

    Patients without survival time are dropped; tokens of patients not in the table are ignored.

    Raises:
        ConfigError: the table lacks survival columns, or a requested covariate.
    """
    missing = [c for c in ("patient_id", "survival_time", "event") if c not in clinical]
    if missing:
        raise ConfigError(f"clinical table lacks {missing}; training needs survival_time (days) and event", field=missing[0])
    df = clinical.dropna(subset=["survival_time", "event"]).sort_values("patient_id").reset_index(drop=True)
    ids = df["patient_id"].astype(str).tolist()
    cov_cols = [c for c in df.columns if c not in OUTCOME_COLUMNS] if covariates is None else list(covariates)
    unknown = [c for c in cov_cols if c not in df]
    if unknown:
        raise ConfigError(f"covariates {unknown} not in the clinical table; columns are {list(df.columns)}", field="covariates")
    classes: list[str] = []
    diag = np.full(len(df), -1, dtype=np.int64)
    if "diagnosis" in df and df["diagnosis"].notna().any():
        classes = sorted(df["diagnosis"].dropna().astype(str).unique())
        lookup = {c: i for i, c in enumerate(classes)}
        diag = np.array([lookup.get(str(v), -1) if pd.notna(v) else -1 for v in df["diagnosis"]], dtype=np.int64)
    keep = set(ids)
    toks = {m: {p: ts for p, ts in per.items() if p in keep} for m, per in tokens.items()}
    return CohortData(ids, df["survival_time"].to_numpy(float), df["event"].to_numpy(int), diag, classes,
                      df[cov_cols].reset_index(drop=True), {m: t for m, t in toks.items() if t}, EdgeCache())


def clinical_table(ws) -> pd.DataFrame:
    """The workspace's de-identified clinical table.

    Raises:
        WorkspaceError: no ingested clinical table.
    """
    from clinfusion.modalities.clinical.read import read_clinical_artifact
    from clinfusion.workspace import read_catalog

    cat = read_catalog(ws)
    rows = cat[(cat["modality"] == "clinical") & (cat["status"] == "ingested")]
    if rows.empty:
        raise WorkspaceError("no ingested clinical table: training needs outcomes (run `clinfusion ingest`)", file=ws.catalog_path)
    return read_clinical_artifact(ws.root, rows.iloc[0]["artifact_dir"])


def available_modalities(ws, encoders: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{modality: encoder}`` of every modality with tokens, the encoder chosen by
    :func:`clinfusion.training.encoders.choose_encoders` (configured, else the registered default,
    else the only cache; never the alphabetically first). Modalities whose choice is ambiguous or
    that have no tokens are left out."""
    from clinfusion.training.encoders import choose_encoder, registered_default, token_caches

    out = {}
    for m, per in token_caches(ws).items():
        try:
            picked = choose_encoder(m, [e for e, n in per.items() if n > 0], (encoders or {}).get(m), registered_default(m))
        except (ConfigError, FeaturizeError):
            continue
        if picked is not None:
            out[m] = picked[0]
    return out


def load_cohort(ws, modalities: Sequence[str] | None = None, encoders: Mapping[str, str] | None = None,
                covariates: Sequence[str] | None = None, *, strict: bool = True) -> CohortData:
    """Tokens (via :func:`~clinfusion.featurize.cache.load_tokens`) and outcomes of a workspace.

    Args:
        modalities: which token modalities (default: every ingested or cached one).
        encoders: encoder per modality (the training config's ``encoders:``); the others follow
            :func:`clinfusion.training.encoders.choose_encoders` (registered default, else the only cache).
        covariates: clinical columns for the wide path (default: all non-outcome columns).
        strict: refuse a modality that has ingested items but no tokens (see ``choose_encoders``).

    Returns:
        The cohort; ``data.encoders`` holds the :class:`~clinfusion.training.encoders.EncoderChoice` per modality.

    Raises:
        FeaturizeError: a modality without tokens (strict), or a configured encoder without a cache.
        ConfigError: several caches of a modality and none configured or default.
    """
    from clinfusion.featurize.cache import load_tokens
    from clinfusion.training.encoders import choose_encoders

    choices = choose_encoders(ws, modalities, encoders, strict=strict)
    tokens = {c.modality: load_tokens(ws, c.modality, c.encoder) for c in choices}
    data = cohort_from_frames(clinical_table(ws), tokens, covariates)
    kept = [c for c in choices if c.modality in data.tokens]
    dropped = [c.modality for c in choices if c.modality not in data.tokens]
    if dropped and strict:
        raise FeaturizeError(f"no tokens for {dropped} among the patients with a survival outcome (tokens of other "
                             "patients only); featurize them again or train without them (--modalities)",
                             file=ws.tokens_dir, field=f"modalities.{dropped[0]}")
    data.encoders = {c.modality: c for c in kept}
    from clinfusion.modalities.clinical.encode import workspace_covariate_types

    data.covariate_types = {c: t for c, t in workspace_covariate_types(ws).items() if c in data.covariates}
    data.edge_cache = EdgeCache(ws.root / "graphs" / "edges")
    return data


def with_diagnosis(data: CohortData, labels: Mapping[str, str]) -> CohortData:
    """``data`` with the diagnosis of some patients replaced (e.g. clinicians' overrides).

    A label that is not yet a class is added to ``classes``; patients not in ``data`` are ignored.
    """
    from dataclasses import replace

    classes = list(data.classes) + sorted({str(v) for v in labels.values()} - set(data.classes))
    lookup = {c: i for i, c in enumerate(classes)}
    diag = data.diagnosis.copy()
    pos = {p: i for i, p in enumerate(data.patient_ids)}
    for pid, label in labels.items():
        if pid in pos:
            diag[pos[pid]] = lookup[str(label)]
    return replace(data, diagnosis=diag, classes=classes)
