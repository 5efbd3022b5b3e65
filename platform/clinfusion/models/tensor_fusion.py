"""Gated tensor (Kronecker) fusion of modality summaries (Pathomic Fusion, Chen et al. 2020).

Each modality's pooled summary ``h_m`` is reduced to a small vector ``z_m`` (``d`` dims), gated
by a sigmoid of itself and the mean of the patient's other present summaries (Pathomic Fusion's
gating-based attention), and appended with a constant 1. The outer product of the
``[1, z_m]`` vectors holds every unimodal, bimodal, ... M-modal interaction term; the constant
keeps the lower-order terms. A missing modality contributes ``[1, 0, ..., 0]``: the product then
equals the fusion of the present modalities alone, embedded in the same space (no imputed value
enters any term).

The product has ``(d + 1) ** M`` entries, so ``d`` shrinks with the number of modalities
(:func:`fused_dim`, at most 2,187 terms): with 7 inputs (the synthetic cohort's 6 token modalities
+ covariates) ``d = 2`` (2,187 terms), with 4 inputs ``d = 5`` (1,296), with 3 (TCGA genomics +
clinical tokens + covariates) ``d = 8`` (729). On the toy cohort of ``clinfusion.testing.tokens``
a 4,096-term product (``d = 7`` for 4 inputs) overfit more than ``d = 2..3``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from clinfusion.models.token_pool import TokenSetEncoder, present_rows


def fused_dim(n_modalities: int, max_terms: int = 2187, cap: int = 8) -> int:
    """Largest ``d <= cap`` (at least 1) with ``(d + 1) ** n_modalities <= max_terms``."""
    d = cap
    while d > 1 and (d + 1) ** n_modalities > max_terms:
        d -= 1
    return d


def kronecker(vectors: list[torch.Tensor]) -> torch.Tensor:
    """Row-wise outer product, flattened. Shapes: ``[B, a], [B, b], ... -> [B, a * b * ...]``."""
    out = vectors[0]
    for v in vectors[1:]:
        out = (out[:, :, None] * v[:, None, :]).flatten(1)
    return out


class TensorFusion(nn.Module):
    """Pooled summaries -> gated small vectors -> Kronecker product -> MLP -> risk.

    Args:
        dims: token dimension per modality (covariates: one more modality with one token).
        hidden: width of the token encoders.
        dim: size ``d`` of each gated vector (default :func:`fused_dim` of the modality count).
        head_hidden: width of the head after the product.
        dropout: dropout on tokens and on the product.

    Shapes:
        tokens ``{m: [B, T_m, D_m]}``, masks ``{m: [B, T_m]}``; outputs ``risk [B]``,
        ``fused [B, (d + 1) ** M]``, ``gates {m: [B, d]}``.
    """

    def __init__(self, dims: Mapping[str, int], hidden: int = 16, dim: int | None = None, head_hidden: int = 16,
                 dropout: float = 0.25) -> None:
        super().__init__()
        self.modalities = list(dims)
        self.dim = dim or fused_dim(len(dims))
        self.encoders = nn.ModuleDict({m: TokenSetEncoder(d, hidden, 0.1) for m, d in dims.items()})
        self.reduce = nn.ModuleDict({m: nn.Linear(hidden, self.dim) for m in dims})
        self.gates = nn.ModuleDict({m: nn.Linear(2 * hidden, self.dim) for m in dims})
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear((self.dim + 1) ** len(dims), head_hidden), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(head_hidden, 1))

    def forward(self, tokens: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor]) -> dict:
        summaries = {m: self.encoders[m](tokens[m], masks[m])[1] for m in self.modalities}
        present = torch.stack([present_rows(masks[m]) for m in self.modalities], 1).to(torch.float32)  # [B, M]
        stacked = torch.stack([summaries[m] for m in self.modalities], 1)  # [B, M, H], zeros where absent
        total, count = (stacked * present[..., None]).sum(1), present.sum(1, keepdim=True)
        vectors, gates = [], {}
        for j, m in enumerate(self.modalities):
            others = (total - summaries[m] * present[:, j:j + 1]) / (count - present[:, j:j + 1]).clamp_min(1.0)
            gate = torch.sigmoid(self.gates[m](torch.cat([summaries[m], others], 1)))
            z = gate * torch.relu(self.reduce[m](summaries[m])) * present[:, j:j + 1]
            gates[m] = gate
            vectors.append(torch.cat([torch.ones_like(z[:, :1]), z], 1))
        fused = kronecker(vectors)
        return {"risk": self.head(fused).squeeze(-1), "fused": fused, "gates": gates}
