"""Penalised linear Cox model (lifelines CoxPHFitter): the clinical baseline."""

from __future__ import annotations

from typing import Any

import numpy as np


class PenalizedCox:
    """lifelines ``CoxPHFitter(penalizer, l1_ratio)`` on a numeric matrix.

    Shapes:
        x: ``[N, F]``; risk: ``[N]`` log partial hazard.
    """

    def __init__(self, penalizer: float = 0.1, l1_ratio: float = 0.0) -> None:
        self.penalizer = penalizer
        self.l1_ratio = l1_ratio
        self.model: Any = None  # lifelines CoxPHFitter once fitted
        self.keep: np.ndarray | None = None

    def fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray) -> PenalizedCox:
        import pandas as pd
        from lifelines import CoxPHFitter

        x = np.asarray(x, float)
        self.keep = x.std(0) > 1e-8  # constant columns make the Hessian singular
        df = pd.DataFrame(x[:, self.keep], columns=[f"x{i}" for i in range(int(self.keep.sum()))])
        df["T"], df["E"] = time, event
        self.model = CoxPHFitter(penalizer=self.penalizer, l1_ratio=self.l1_ratio).fit(df, "T", "E")
        return self

    def risk(self, x: np.ndarray) -> np.ndarray:
        beta = self.model.params_.to_numpy()
        return np.asarray(x, float)[:, self.keep] @ beta
