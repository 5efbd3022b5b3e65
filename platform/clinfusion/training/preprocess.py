"""Token standardisation fitted on the training fold only (per modality and token feature).

Tables (covariates, pooled tokens) are encoded by :class:`clinfusion.tabular.TabularEncoder`
(:mod:`clinfusion.training.flat` builds the pooled table); this module only standardises the
token sets that become graph nodes. ``to_dict`` output is JSON, stored with the model so
inference applies exactly what training fitted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
