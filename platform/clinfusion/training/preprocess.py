"""Preprocessing fitted on the training fold only: token standardisation and covariate encoding.

Both are plain dataclasses whose ``to_dict`` output is JSON, stored with the model so inference
applies exactly what training fitted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clinfusion.featurize.tokens import TokenSet


@dataclass
class TokenStandardizer:
    """Per modality and feature: ``(x - mean) / std`` over all training tokens.

    Attributes:
        mean, std: ``{modality: [D]}``.
    """

    mean: dict[str, list[float]] = field(default_factory=dict)
    std: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def fit(cls, tokens: Mapping[str, Mapping[str, TokenSet]], ids: Iterable[str]) -> TokenStandardizer:
        ids = list(ids)
        out = cls()
        for m, per in tokens.items():
            xs = [per[p].tokens for p in ids if p in per]
            if not xs:
                continue
            x = np.concatenate(xs).astype(np.float64)
            out.mean[m] = x.mean(0).tolist()
            out.std[m] = np.where(x.std(0) > 1e-8, x.std(0), 1.0).tolist()
        return out

    def apply(self, modality: str, x: np.ndarray) -> np.ndarray:
        """Standardised tokens (unchanged for a modality the fold never saw)."""
        if modality not in self.mean:
            return np.asarray(x, dtype=np.float32)
        return ((x - np.asarray(self.mean[modality])) / np.asarray(self.std[modality])).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TokenStandardizer:
        return cls(dict(d["mean"]), dict(d["std"]))


@dataclass
class CovariateEncoder:
    """Clinical covariates -> standardised numeric matrix.

    Numeric columns: median imputation then z-score. Other columns: one-hot of the training
    levels (an unseen or missing level is all zeros). Every column with missing values in the
    training fold also gets a 0/1 missingness indicator.
    """

    numeric: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # col -> (median, mean, std)
    levels: dict[str, list[str]] = field(default_factory=dict)
    indicators: list[str] = field(default_factory=list)

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> CovariateEncoder:
        enc = cls()
        for c in frame.columns:
            col = frame[c]
            num = pd.to_numeric(col, errors="coerce")
            if col.notna().any() and num.notna().sum() == col.notna().sum():
                med = float(num.median())
                filled = num.fillna(med)
                enc.numeric[c] = (med, float(filled.mean()), float(filled.std(ddof=0)) or 1.0)
            else:
                enc.levels[c] = sorted(col.dropna().astype(str).unique())
            if col.isna().any():
                enc.indicators.append(c)
        return enc

    @property
    def names(self) -> list[str]:
        return ([*self.numeric] + [f"{c}={lv}" for c, lvs in self.levels.items() for lv in lvs]
                + [f"{c}_missing" for c in self.indicators])

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Shapes: output ``[N, len(names)]`` float32."""
        cols = []
        for c, (med, mu, sd) in self.numeric.items():
            cols.append(((pd.to_numeric(frame[c], errors="coerce").fillna(med) - mu) / sd).to_numpy(float))
        for c, lvs in self.levels.items():
            s = frame[c].astype(object).where(frame[c].notna(), None)
            cols += [(s.astype(str) == lv).to_numpy(float) for lv in lvs]
        cols += [frame[c].isna().to_numpy(float) for c in self.indicators]
        if not cols:
            return np.zeros((len(frame), 0), dtype=np.float32)
        return np.stack(cols, 1).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"numeric": {k: list(v) for k, v in self.numeric.items()}, "levels": self.levels, "indicators": self.indicators}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CovariateEncoder:
        return cls({k: tuple(v) for k, v in d["numeric"].items()}, dict(d["levels"]), list(d["indicators"]))
