"""Flat features for the classical baselines: each modality's tokens mean- and max-pooled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinfusion.featurize.tokens import TokenSet
from clinfusion.training.dataset import CohortData


def pool_bundles(bundles: Sequence[Mapping[str, TokenSet]], modalities: Sequence[str], dims: Mapping[str, int]) -> np.ndarray:
    """``[mean tokens, max tokens]`` per modality of token bundles, NaN where a modality is absent.

    Shapes:
        output: ``[N, sum_m 2 * D_m]``.
    """
    blocks = []
    for m in modalities:
        block = np.full((len(bundles), 2 * dims[m]), np.nan)
        for i, b in enumerate(bundles):
            ts = b.get(m)
            if ts is not None:
                block[i] = np.concatenate([ts.tokens.mean(0), ts.tokens.max(0)])
        blocks.append(block)
    return np.concatenate(blocks, 1) if blocks else np.zeros((len(bundles), 0))


def pooled_features(data: CohortData, ids: Sequence[str], modalities: Sequence[str]) -> np.ndarray:
    """:func:`pool_bundles` for cohort patients."""
    bundles = [{m: data.tokens[m][p] for m in modalities if p in data.tokens[m]} for p in ids]
    return pool_bundles(bundles, modalities, data.dims())


@dataclass
class FlatScaler:
    """Mean imputation + z-score fitted on the training fold, plus a 0/1 indicator per column
    group that had missing values in training (a missing modality is flagged, not faked)."""

    mean: np.ndarray
    std: np.ndarray
    flag_cols: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> FlatScaler:
        """Statistics and the indicator columns (first column of each distinct training missingness
        pattern) come from the training rows only, so every transform has the same width."""
        with np.errstate(all="ignore"):
            mean = np.nan_to_num(np.nanmean(np.where(np.isnan(x).all(0), 0.0, x), 0))
            std = np.nan_to_num(np.nanstd(x, 0)) if len(x) else np.ones(x.shape[1])
        miss = np.isnan(x)
        cols = np.flatnonzero(miss.any(0))
        if len(cols):
            _, first = np.unique(miss[:, cols].T, axis=0, return_index=True)
            cols = cols[np.sort(first)]
        return cls(mean, np.where(std > 1e-8, std, 1.0), cols.astype(np.int64))

    @property
    def width(self) -> int:
        return len(self.mean) + len(self.flag_cols)

    def transform(self, x: np.ndarray) -> np.ndarray:
        miss = np.isnan(x)
        z = (np.where(miss, self.mean, x) - self.mean) / self.std
        return np.concatenate([z, miss[:, self.flag_cols].astype(float)], 1)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "flag_cols": self.flag_cols.tolist()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FlatScaler:
        return cls(np.asarray(d["mean"], float), np.asarray(d["std"], float), np.asarray(d["flag_cols"], np.int64))
