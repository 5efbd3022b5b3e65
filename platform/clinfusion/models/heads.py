"""Output heads (wide & deep): Cox risk, discrete-time hazards and diagnosis logits."""

from __future__ import annotations

import torch
from torch import nn


class WideDeepHeads(nn.Module):
    """Each head is ``deep(h) + wide(covariates)`` (``deep=False``: ``bias + wide(covariates)``).

    The wide path is a linear model of the clinical covariates (a penalised Cox when alone), the
    deep path reads the fused embedding. With ``deep_init_zero`` the deep layers start at zero,
    so training starts from the linear model and the network learns a residual on top of it.

    Shapes:
        h: ``[B, hidden]``; cov: ``[B, C]`` or ``None``; outputs: ``risk [B]``,
        ``hazard_logits [B, K]``, ``diagnosis_logits [B, n_classes]`` (when ``n_classes > 1``).
    """

    def __init__(self, hidden: int, n_bins: int, n_classes: int, n_covariates: int, *, wide: bool = True,
                 deep_init_zero: bool = True, deep: bool = True) -> None:
        super().__init__()
        self.deep = deep
        self.cox = nn.Linear(hidden, 1)
        self.hazard = nn.Linear(hidden, n_bins)
        self.diagnosis = nn.Linear(hidden, n_classes) if n_classes > 1 else None
        use_wide = wide and n_covariates > 0
        self.cox_wide = nn.Linear(n_covariates, 1, bias=False) if use_wide else None
        self.hazard_wide = nn.Linear(n_covariates, 1, bias=False) if use_wide else None
        self.diagnosis_wide = nn.Linear(n_covariates, n_classes, bias=False) if use_wide and n_classes > 1 else None
        if deep_init_zero:
            for lin in (self.cox, self.hazard, self.diagnosis):
                if lin is not None:
                    nn.init.zeros_(lin.weight)
            for wide_lin in (self.cox_wide, self.hazard_wide, self.diagnosis_wide):
                if wide_lin is not None:
                    nn.init.zeros_(wide_lin.weight)

    @staticmethod
    def _add(deep: torch.Tensor, wide: nn.Module | None, cov: torch.Tensor | None) -> torch.Tensor:
        return deep if wide is None or cov is None else deep + wide(cov)

    def forward(self, h: torch.Tensor, cov: torch.Tensor | None) -> dict[str, torch.Tensor]:
        if not self.deep:  # wide-only: the embedding does not reach the outputs (constant deep part = biases)
            h = torch.zeros_like(h)
        out = {
            "risk": self._add(self.cox(h), self.cox_wide, cov).squeeze(-1),
            "hazard_logits": self._add(self.hazard(h), self.hazard_wide, cov),
        }
        if self.diagnosis is not None:
            out["diagnosis_logits"] = self._add(self.diagnosis(h), self.diagnosis_wide, cov)
        return out
