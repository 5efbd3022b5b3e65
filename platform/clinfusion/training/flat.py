"""Flat features of the classical baselines and the wide path: each modality's tokens mean- and
max-pooled into one row per patient, encoded with the shared :class:`~clinfusion.tabular.TabularEncoder`.

The pooled columns of modality ``m`` are ``m:mean<j>`` and ``m:max<j>`` (``j < D_m``), numeric,
source and block ``m``: the encoder z-scores them with training-fold statistics, imputes an absent
modality with the training mean and adds ONE flag ``m__missing`` per modality.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from clinfusion.featurize.tokens import TokenSet
from clinfusion.tabular import ColumnType, TabularEncoder
from clinfusion.training.dataset import CohortData


def pooled_names(modalities: Sequence[str], dims: Mapping[str, int]) -> list[str]:
    """Column names of :func:`pool_bundles`, in order."""
    return [f"{m}:{stat}{j}" for m in modalities for stat in ("mean", "max") for j in range(dims[m])]


def pooled_types(modalities: Sequence[str], dims: Mapping[str, int]) -> dict[str, ColumnType]:
    """Column types of the pooled features: numeric, source and shared missing flag per modality."""
    return {f"{m}:{stat}{j}": ColumnType("numeric", source=m, block=m)
            for m in modalities for stat in ("mean", "max") for j in range(dims[m])}


def pool_bundles(bundles: Sequence[Mapping[str, TokenSet]], modalities: Sequence[str], dims: Mapping[str, int]) -> pd.DataFrame:
    """``[mean tokens, max tokens]`` per modality of token bundles, NaN where a modality is absent.

    Shapes:
        output: ``[N, sum_m 2 * D_m]``, columns :func:`pooled_names`.
    """
    blocks = []
    for m in modalities:
        block = np.full((len(bundles), 2 * dims[m]), np.nan)
        for i, b in enumerate(bundles):
            ts = b.get(m)
            if ts is not None:
                block[i] = np.concatenate([ts.tokens.mean(0), ts.tokens.max(0)])
        blocks.append(block)
    data = np.concatenate(blocks, 1) if blocks else np.zeros((len(bundles), 0))
    return pd.DataFrame(data, columns=pooled_names(modalities, dims))


def pooled_frame(data: CohortData, ids: Sequence[str], modalities: Sequence[str]) -> pd.DataFrame:
    """:func:`pool_bundles` for cohort patients (row order of ``ids``)."""
    bundles = [{m: data.tokens[m][p] for m in modalities if p in data.tokens[m]} for p in ids]
    dims = data.dims()
    return pool_bundles(bundles, modalities, {m: dims[m] for m in modalities})


def fit_pooled(pooled: pd.DataFrame, modalities: Sequence[str], dims: Mapping[str, int]) -> TabularEncoder:
    """The encoder of pooled features, fitted on the training rows ``pooled``."""
    return TabularEncoder.fit(pooled, pooled_types(modalities, dims))


def flat_encoder(data: CohortData, train_ids: Sequence[str], modalities: Sequence[str]) -> TabularEncoder:
    """The pooled-feature encoder fitted on the training patients ``train_ids``."""
    dims = data.dims()
    return fit_pooled(pooled_frame(data, train_ids, modalities), modalities, {m: dims[m] for m in modalities})


def fit_covariates(data: CohortData, ids: Sequence[str]) -> TabularEncoder | None:
    """The covariate encoder fitted on patients ``ids`` (declared types from ``data.covariate_types``),
    or None when the cohort has no covariate column."""
    if not data.covariates.shape[1]:
        return None
    return TabularEncoder.fit(data.covariates.iloc[data.index(ids)], data.covariate_types)


def flat_matrix(data: CohortData, ids: Sequence[str], modalities: Sequence[str],
                flat: TabularEncoder, covariates: TabularEncoder | None) -> np.ndarray:
    """``[encoded pooled tokens | encoded covariates]`` of patients ``ids``.

    Shapes:
        output: ``[len(ids), flat.width + covariates.width]`` float32.
    """
    parts = [flat.transform(pooled_frame(data, ids, modalities))]
    if covariates is not None:
        parts.append(covariates.transform(data.covariates.iloc[data.index(ids)]))
    return np.concatenate(parts, 1).astype(np.float32)
