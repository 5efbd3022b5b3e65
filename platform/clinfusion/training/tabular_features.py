"""The flat design matrix of a classical candidate, fitted on its training patients only.

``[pooled tokens of some modalities (mean/max per modality, encoded by the shared
:class:`~clinfusion.tabular.TabularEncoder`: imputed, z-scored, one missing flag per modality) |
encoded clinical covariates]``, optionally keeping only the most variable pooled columns (chosen
on the training patients' raw values). Everything fitted is stored, so the same transform applies
to test-fold patients and to new patients (the served model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clinfusion.tabular import TabularEncoder
from clinfusion.training.dataset import CohortData
from clinfusion.training.flat import pool_bundles, pooled_types


def _bundles(data: CohortData, ids: Sequence[str], modalities: Sequence[str]) -> list[dict]:
    return [{m: data.tokens[m][p] for m in modalities if p in data.tokens.get(m, {})} for p in ids]


@dataclass
class TabularFeatures:
    """Fitted flat features.

    Attributes:
        modalities / dims: pooled modalities and their token dims (from the training patients).
        keep: names of the pooled columns kept (None: all).
        scaler: encoder of the kept pooled columns (None: no modality).
        covariates: the clinical covariate encoder (None: no clinical columns).
    """

    modalities: list[str]
    dims: dict[str, int]
    keep: list[str] | None
    scaler: TabularEncoder | None
    covariates: TabularEncoder | None

    @classmethod
    def fit(cls, data: CohortData, ids: Sequence[str], modalities: Sequence[str], clinical: bool,
            top_variance: int | None = None) -> TabularFeatures:
        """Fit on ``ids`` (the training patients).

        Args:
            modalities: token modalities to pool (those absent from ``data`` are skipped).
            clinical: append the clinical covariates.
            top_variance: keep the ``top_variance`` pooled columns of largest training variance (None: all).
        """
        mods = [m for m in modalities if m in data.tokens]
        dims = {m: d for m, d in data.dims().items() if m in mods}
        keep, scaler = None, None
        if mods:
            raw = pool_bundles(_bundles(data, ids, mods), mods, dims)
            if top_variance is not None and top_variance < raw.shape[1]:
                with np.errstate(all="ignore"):
                    var = np.nan_to_num(np.nanvar(raw.to_numpy(float), 0), nan=-1.0)
                keep = [str(raw.columns[j]) for j in np.sort(np.argsort(-var, kind="stable")[:top_variance])]
                raw = raw[keep]
            scaler = TabularEncoder.fit(raw, pooled_types(mods, dims))
        ix = data.index(ids)
        use = clinical and data.covariates.shape[1] > 0
        cov = TabularEncoder.fit(data.covariates.iloc[ix], data.covariate_types) if use else None
        return cls(mods, dims, keep, scaler, cov)

    @property
    def n_clinical(self) -> int:
        """Number of clinical columns (the last columns of :meth:`transform`)."""
        return self.covariates.width if self.covariates is not None else 0

    @property
    def width(self) -> int:
        return (self.scaler.width if self.scaler is not None else 0) + self.n_clinical

    def transform(self, data: CohortData, ids: Sequence[str]) -> np.ndarray:
        """Shapes: output ``[len(ids), width]`` float."""
        parts = []
        if self.scaler is not None:
            raw = pool_bundles(_bundles(data, ids, self.modalities), self.modalities, self.dims)
            parts.append(self.scaler.transform(raw if self.keep is None else raw[self.keep]).astype(float))
        if self.covariates is not None:
            parts.append(self.covariates.transform(data.covariates.iloc[data.index(ids)]).astype(float))
        return np.concatenate(parts, 1) if parts else np.zeros((len(ids), 0))
