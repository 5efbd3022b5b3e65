"""Flat features for the classical baselines: each modality's tokens mean- and max-pooled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clinfusion.training.dataset import CohortData


def pooled_features(data: CohortData, ids: Sequence[str], modalities: Sequence[str]) -> np.ndarray:
    """``[mean tokens, max tokens]`` per modality, NaN where the patient lacks the modality.

    Shapes:
        output: ``[N, sum_m 2 * D_m]``.
    """
    dims = data.dims()
    blocks = []
    for m in modalities:
        d = dims[m]
        block = np.full((len(ids), 2 * d), np.nan)
        for i, p in enumerate(ids):
            ts = data.tokens[m].get(p)
            if ts is not None:
                block[i] = np.concatenate([ts.tokens.mean(0), ts.tokens.max(0)])
        blocks.append(block)
    return np.concatenate(blocks, 1) if blocks else np.zeros((len(ids), 0))


@dataclass
class FlatScaler:
    """Mean imputation + z-score fitted on the training fold, plus a 0/1 indicator per column
    group that had missing values in training (a missing modality is flagged, not faked)."""

    mean: np.ndarray
    std: np.ndarray
    flag: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> FlatScaler:
        mean = np.nan_to_num(np.nanmean(np.where(np.isnan(x).all(0), 0.0, x), 0))
        std = np.nan_to_num(np.nanstd(x, 0))
        return cls(mean, np.where(std > 1e-8, std, 1.0), np.isnan(x).any(0))

    def transform(self, x: np.ndarray) -> np.ndarray:
        miss = np.isnan(x)
        z = (np.where(miss, self.mean, x) - self.mean) / self.std
        # one indicator per distinct missingness pattern column set (first flagged column of each block)
        flags = miss[:, self.flag]
        if flags.shape[1]:
            _, first = np.unique(flags.T, axis=0, return_index=True)
            flags = flags[:, np.sort(first)]
        return np.concatenate([z, flags.astype(float)], 1)
