"""Gradient-boosted survival trees (sksurv ``GradientBoostingSurvivalAnalysis``, Cox loss)."""

from __future__ import annotations

import numpy as np


class BoostedSurvival:
    """Shallow regression trees boosted on the Cox partial likelihood; risk = the ensemble's log hazard.

    Defaults are small for CPU and for cohorts of a few hundred patients (depth-2 trees, shrinkage
    0.05, 80% row subsampling: stochastic gradient boosting regularises like the forest does).

    Shapes:
        x: ``[N, F]``; risk: ``[N]``.
    """

    def __init__(self, n_estimators: int = 150, learning_rate: float = 0.05, max_depth: int = 2,
                 subsample: float = 0.8, seed: int = 0) -> None:
        from sksurv.ensemble import GradientBoostingSurvivalAnalysis

        self.model = GradientBoostingSurvivalAnalysis(loss="coxph", n_estimators=n_estimators, learning_rate=learning_rate,
                                                      max_depth=max_depth, subsample=subsample, random_state=seed)

    def fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray) -> BoostedSurvival:
        from sksurv.util import Surv

        self.model.fit(x, Surv.from_arrays(np.asarray(event).astype(bool), np.asarray(time, float)))
        return self

    def risk(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(x), float)
