"""Elastic-net Cox on concatenated features (sksurv CoxnetSurvivalAnalysis), alpha tuned on an inner split."""

from __future__ import annotations

from typing import Any

import numpy as np


class CoxNet:
    """Fit the regularisation path on the inner-training part, pick the alpha with the best
    inner-validation C-index, refit on all training data at that alpha.

    Shapes:
        x: ``[N, F]`` standardised; risk: ``[N]``.
    """

    def __init__(self, l1_ratio: float = 0.5, n_alphas: int = 30, alpha_min_ratio: float = 0.05,
                 penalty_factor: np.ndarray | None = None) -> None:
        """``penalty_factor``: ``[F]`` per-column penalty multipliers (0: unpenalised, e.g. clinical
        covariates next to penalised omics); None: every column penalised alike."""
        self.penalty_factor = None if penalty_factor is None else np.asarray(penalty_factor, float)
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.alpha_min_ratio = alpha_min_ratio
        self.model: Any = None  # sksurv CoxnetSurvivalAnalysis once fitted
        self.alpha: float | None = None

    def _path(self, x, y, alphas=None):
        from sksurv.linear_model import CoxnetSurvivalAnalysis

        return CoxnetSurvivalAnalysis(l1_ratio=self.l1_ratio, n_alphas=self.n_alphas, alphas=alphas,
                                      alpha_min_ratio=self.alpha_min_ratio, max_iter=20000,
                                      penalty_factor=self.penalty_factor).fit(x, y)

    def fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray, inner_val: np.ndarray | None = None) -> CoxNet:
        """``inner_val``: boolean mask of training rows used to choose alpha (None: the middle alpha)."""
        from sksurv.exceptions import NoComparablePairException
        from sksurv.metrics import concordance_index_censored
        from sksurv.util import Surv

        y = Surv.from_arrays(np.asarray(event).astype(bool), np.asarray(time, float))
        path = self._path(x if inner_val is None else x[~inner_val], y if inner_val is None else y[~inner_val])
        alphas = path.alphas_
        best = len(alphas) // 2
        if inner_val is not None and y[inner_val]["event"].sum() > 0:
            scores = []
            for i in range(len(alphas)):
                r = x[inner_val] @ path.coef_[:, i]
                try:
                    scores.append(concordance_index_censored(y[inner_val]["event"], y[inner_val]["time"], r)[0])
                except NoComparablePairException:
                    scores.append(0.5)
            best = int(np.argmax(scores))
        self.alpha = float(alphas[best])
        self.model = self._path(x, y, alphas=alphas[: best + 1])
        return self

    def risk(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, float) @ self.model.coef_[:, -1]
