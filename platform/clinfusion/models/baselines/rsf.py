"""Random survival forest baseline (sksurv), kept small for CPU."""

from __future__ import annotations

import numpy as np


class SurvivalForest:
    """sksurv ``RandomSurvivalForest``; risk = the forest's cumulative-hazard-based score.

    Shapes:
        x: ``[N, F]``; risk: ``[N]``.
    """

    def __init__(self, n_estimators: int = 100, min_samples_leaf: int = 10, max_features: str = "sqrt", seed: int = 0) -> None:
        from sksurv.ensemble import RandomSurvivalForest

        self.model = RandomSurvivalForest(n_estimators=n_estimators, min_samples_leaf=min_samples_leaf,
                                          max_features=max_features, n_jobs=1, random_state=seed)

    def fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray) -> SurvivalForest:
        from sksurv.util import Surv

        self.model.fit(x, Surv.from_arrays(np.asarray(event).astype(bool), np.asarray(time, float)))
        return self

    def risk(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(x), float)
